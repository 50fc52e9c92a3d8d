"""What every benchmark in bench/ shares: a scratch PostgreSQL, peak memory, the result line.

    from harness import PeakMemory, emit, scratch_database, scratch_server

    with scratch_server(os.environ.get("SUPERVISION_WAREHOUSE_URL")) as server, \\
            scratch_database(server, "bench_x") as url:
        with PeakMemory(os.getpid(), server=server) as mem:
            ...                                   # the measured step
    emit("x", seconds=..., **mem.figures())      # the one JSON line bench_runner reads

- ``scratch_server(url)``: the server of an owner URL (its ``postgres`` database is the admin
  connection), or a new embedded server in a scratch folder, destroyed afterwards.
- ``PeakMemory(*roots, server=...)``: the peak memory of process trees (each root and every process
  under it) and of the PostgreSQL server's processes, sampled in a thread from
  ``/proc/<pid>/smaps_rollup``. PSS shares pages that processes share (PostgreSQL's shared
  buffers, a forked worker's inherited pages) out among them, so the sum of PSS is the fair total
  of a process tree; the sum of RSS counts shared pages once per process.
- ``emit(bench, **figures)``: prints ``{"bench": ..., ...}`` as the last line of a benchmark's
  output (``supervision bench`` reads every line that starts with ``{"bench"``).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# the project's environment (its `supervision` and `python`), else the running interpreter's
BIN = REPO / ".venv" / "bin" if (REPO / ".venv" / "bin" / "supervision").exists() else Path(sys.executable).parent
MIB = 2 ** 20
if str(REPO / "plugins") not in sys.path:
    sys.path.insert(0, str(REPO / "plugins"))


# --- the result line ---------------------------------------------------------------------------

def emit(bench: str, **figures: object) -> dict:
    """Print the benchmark's result line (JSON, ``bench`` first); returns it as a dict."""
    result = {"bench": bench, **figures}
    print(json.dumps(result, ensure_ascii=False, default=str), flush=True)
    return result


def mib(n_bytes: float) -> int:
    return round(n_bytes / MIB)


# --- scratch folders and servers -----------------------------------------------------------------

def scratch_dir(prefix: str) -> Path:
    """A new folder for one run: under the repository's var/ when it exists (the machine's data
    disk), else under $TMPDIR."""
    var = REPO / "var"
    return Path(tempfile.mkdtemp(prefix=prefix, dir=var if var.is_dir() else None)).resolve()


@dataclass
class Server:
    admin_url: str                  # owner URL of the server's ``postgres`` database
    pgdata: Path | None = None      # data folder of an embedded server (None: an external one)
    var_dir: Path | None = None     # the embedded server's scratch SUPERVISION_VAR_DIR

    def url(self, database: str) -> str:
        return self.admin_url.rsplit("/", 1)[0] + "/" + database

    def postmaster(self) -> int | None:
        """The server's postmaster process when it runs on this machine, else None."""
        return postmaster_in(self.pgdata) if self.pgdata is not None else postmaster_of(self.admin_url)


def postmaster_in(pgdata: Path) -> int | None:
    """The postmaster of the server running on the data folder ``pgdata``, if any."""
    try:
        return int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def libpq_url(url: str) -> str:
    """A URL as psycopg wants it (without a SQLAlchemy driver suffix such as ``+psycopg``)."""
    return "postgresql://" + url.split("://", 1)[1] if url.startswith("postgresql+") else url


def postmaster_of(url: str) -> int | None:
    """The postmaster of the server at ``url`` (a backend's parent process), if it is local."""
    import psycopg

    try:
        with psycopg.connect(libpq_url(url)) as conn:
            backend = conn.execute("select pg_backend_pid()").fetchone()[0]
        return _parent(backend)
    except (psycopg.Error, OSError, ValueError, IndexError):
        return None


@contextmanager
def scratch_server(url: str | None = None, prefix: str = "bench_pg_") -> Iterator[Server]:
    """The server of the owner URL ``url``, or (None) a new embedded server in a scratch folder,
    stopped and removed afterwards."""
    if url:
        yield Server(libpq_url(url).rsplit("/", 1)[0] + "/postgres")
        return
    from supervision.config import Settings
    from supervision.warehouse import EmbeddedServer

    var_dir = scratch_dir(prefix)
    server = EmbeddedServer(Settings(home=REPO, var_dir=var_dir))
    try:
        server.start()
        yield Server(server.url("postgres"), server.pgdata, var_dir)
    finally:
        server.destroy()
        shutil.rmtree(var_dir, ignore_errors=True)


@contextmanager
def scratch_database(server: Server, prefix: str = "bench_", keep: bool = False) -> Iterator[str]:
    """A new database on ``server`` (its owner URL), dropped afterwards unless ``keep``."""
    import psycopg

    name = f"{prefix}{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    try:
        yield server.url(name)
    finally:
        if keep:
            print(f"kept {server.url(name)}", flush=True)
        else:
            with psycopg.connect(server.admin_url, autocommit=True) as conn:
                conn.execute(f'drop database if exists "{name}" with (force)')



@contextmanager
def git_worktree(ref: str) -> Iterator[Path]:
    """``ref`` checked out (detached) in a temporary git worktree of this repository: its folder,
    removed with the worktree afterwards."""
    work = Path(tempfile.mkdtemp(prefix="bench_worktree_"))
    tree = work / "tree"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), ref], check=True,
                   capture_output=True)
    try:
        yield tree
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], check=False,
                       capture_output=True)
        shutil.rmtree(work, ignore_errors=True)

# --- peak memory ---------------------------------------------------------------------------------

def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                kids.setdefault(_parent(int(entry.name)), []).append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return kids


_CHILDREN_FILES = os.path.exists(f"/proc/self/task/{os.getpid()}/children")


def _children(pid: int) -> list[int]:
    """Children of one process from /proc/<pid>/task/*/children (cheap: no scan of /proc)."""
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    out += [int(x) for x in f.read().split()]
            except OSError:
                continue
    except OSError:
        pass
    return out


def process_tree(*roots: int) -> set[int]:
    """The roots and every process under them (that still run)."""
    kids = None if _CHILDREN_FILES else _children_map()
    todo, seen = [r for r in roots if r], set()
    while todo:
        pid = todo.pop()
        if pid not in seen and os.path.exists(f"/proc/{pid}"):
            seen.add(pid)
            todo += _children(pid) if kids is None else kids.get(pid, [])
    return seen


def rss_pss(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in bytes; (0, 0) when it is gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, pss


class PeakMemory:
    """Peak memory of process trees and of a PostgreSQL server while a block runs.

    Every ``interval`` s (and once at the start and the end) it sums RSS and PSS over the trees of
    ``roots`` (the measured side: this process, a child) and over the server's processes, and
    keeps the peaks: ``pss``/``rss`` of everything, ``roots_pss``/``roots_rss`` of the measured
    side alone, ``server_pss`` and ``server_largest_rss`` (the largest single server process:
    one backend's working memory). Roots may be added while it runs (a process started inside)."""

    def __init__(self, *roots: int, server: Server | None = None, postmaster: int | None = None,
                 interval: float = 0.2) -> None:
        self.roots = [r for r in roots if r]
        self.postmaster = postmaster if postmaster is not None else (server.postmaster() if server else None)
        self.interval = interval
        self.pss = self.rss = self.roots_pss = self.roots_rss = self.server_pss = self.server_largest_rss = 0
        self.processes = self.samples = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add_root(self, pid: int) -> None:
        self.roots.append(pid)
        self.sample()

    def sample(self) -> None:
        mine = process_tree(*self.roots)
        server = process_tree(self.postmaster) - mine if self.postmaster else set()
        r_rss = r_pss = s_pss = s_largest = s_rss = 0
        for pid in mine:
            rss, pss = rss_pss(pid)
            r_rss, r_pss = r_rss + rss, r_pss + pss
        for pid in server:
            rss, pss = rss_pss(pid)
            s_rss, s_pss = s_rss + rss, s_pss + pss
            if pid != self.postmaster:
                s_largest = max(s_largest, rss)
        self.samples += 1
        self.pss, self.rss = max(self.pss, r_pss + s_pss), max(self.rss, r_rss + s_rss)
        self.roots_pss, self.roots_rss = max(self.roots_pss, r_pss), max(self.roots_rss, r_rss)
        self.server_pss = max(self.server_pss, s_pss)
        self.server_largest_rss = max(self.server_largest_rss, s_largest)
        self.processes = max(self.processes, len(mine) + len(server))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def start(self) -> PeakMemory:
        self._stop.clear()
        self.sample()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> PeakMemory:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.sample()
        return self

    def __enter__(self) -> PeakMemory:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def figures(self, prefix: str = "") -> dict[str, int]:
        """The peaks in MiB: ``peak_pss_mib`` (everything, PostgreSQL included: the fair total),
        ``peak_rss_mib`` (the measured processes' RSS sum, without the server) and, with a local
        server, ``postgres_peak_pss_mib`` (the server's processes alone)."""
        out = {f"{prefix}peak_pss_mib": mib(self.pss), f"{prefix}peak_rss_mib": mib(self.roots_rss)}
        if self.postmaster:
            out[f"{prefix}postgres_peak_pss_mib"] = mib(self.server_pss)
        return out
