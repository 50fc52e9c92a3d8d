"""`make test` from a fresh clone, as CI runs it: wall time, tests passed, peak memory.

Clones the repository's HEAD (the committed code: uncommitted changes are not in it) into a
temporary folder ($TMPDIR), runs ``make test`` there (the environment's set-up, lint, the whole suite) and
prints its wall time, what pytest counted (passed, failed, skipped, errors: every pytest process of
the suite prints one summary line; they are summed), the user and system CPU of the whole tree,
and the peak memory of the process tree under ``make`` sampled every second (the PostgreSQL
servers that the tests start detach from it and are not counted). The clone is removed afterwards.

    .venv/bin/python bench/bench_suite.py            # make test (12-15 min on 2 cores)
    .venv/bin/python bench/bench_suite.py --quick    # make test-fast

Goal (issue "a day in seconds"): ``make test`` from a fresh clone within 12 minutes.
Final line: JSON {"bench": "suite", ...}.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import REPO, PeakMemory, emit, mib

SUMMARY = re.compile(r"^=+ (?P<body>.*\d+ (?:passed|failed|error|errors|skipped).*) in [\d.]+s")
COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected)")


def pytest_counts(output: str) -> dict[str, int]:
    """The sum of every pytest summary line's outcomes (``errors`` counted as ``error``; not
    ``deselected``: each pytest process of the suite deselects the tests the other runs)."""
    counts: dict[str, int] = {}
    for line in output.splitlines():
        m = SUMMARY.match(line.strip())
        if not m:
            continue
        for n, what in COUNT.findall(m["body"]):
            if what == "deselected":  # each pytest process of the suite deselects the other's tests
                continue
            key = "error" if what.startswith("error") else what
            counts[key] = counts.get(key, 0) + int(n)
    return counts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="make test-fast instead of make test")
    ap.add_argument("--target", default=None, help="the make target (default: test; --quick: test-fast)")
    args = ap.parse_args()
    target = args.target or ("test-fast" if args.quick else "test")

    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, check=True).stdout.strip())
    base = Path(tempfile.mkdtemp(prefix="bench_suite_"))  # outside the repository, as CI's checkout is
    clone = base / "clone"
    log = base / "make.log"
    try:
        subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
        # as CI runs it: none of this shell's project settings (the tests' own SUPERVISION_TEST_*
        # stay); the clone finds the contract beside its origin, this repository (tests/conftest.py)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("SUPERVISION_") or k.startswith("SUPERVISION_TEST_")}
        env.pop("VIRTUAL_ENV", None)
        memory = PeakMemory(interval=1.0)  # dozens of processes: a sample a second
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        load_before = os.getloadavg()[0]
        t = time.monotonic()
        with open(log, "wb") as out:
            proc = subprocess.Popen(["make", target], cwd=clone, env=env, stdout=out, stderr=subprocess.STDOUT)
            memory.start()
            memory.add_root(proc.pid)
            rc = proc.wait()
            memory.stop()
        wall = time.monotonic() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        output = log.read_text(errors="replace")
    finally:
        shutil.rmtree(base, ignore_errors=True)

    counts = pytest_counts(output)
    user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    print(f"make {target} from a fresh clone of {head}{' (uncommitted changes are not in it)' if dirty else ''}: "
          f"{wall:.1f} s ({wall / 60:.1f} min), exit {rc}; pytest: "
          + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
          + f"; CPU user {user / 60:.1f} min, system {system / 60:.1f} min; load average before {load_before:.1f}, "
          f"after {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores); peak PSS of make's process tree "
          f"{mib(memory.pss)} MiB")
    if rc != 0:
        lines = output.splitlines()
        named = [ln for ln in lines if ln.startswith(("FAILED ", "ERROR "))]
        sys.stdout.write("\n".join(named + ["..."] + lines[-40:]) + "\n")
    emit("suite" if target == "test" else f"suite_{target.replace('-', '_')}", target=target, commit=head,
         wall_s=round(wall, 1), exit_code=rc, **{f"tests_{k}": n for k, n in sorted(counts.items())},
         cpu_user_s=round(user, 1), cpu_system_s=round(system, 1), loadavg_1m_before=round(load_before, 2),
         **memory.figures())
    return rc


if __name__ == "__main__":
    sys.exit(main())
