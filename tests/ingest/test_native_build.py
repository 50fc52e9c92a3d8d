"""The native video parser ships with the package: a wheel built from the repository (as the
image's build stage does) carries the library, and from a scratch venv where only that wheel is
installed, ``supervision.ingest.video`` loads the library from the wheel and parses with it.
Without a library (no Rust toolchain at build time) the loader falls back to the Python parser."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from supervision.ingest.video import native

pytestmark = pytest.mark.slow  # not in `make test-fast` (builds a wheel, makes a scratch environment)

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "plugins" / "supervision"

# run inside the scratch venv: where the package and its library come from, and one line parsed
_PROBE = r"""
import json, sys, uuid
import supervision
from supervision.ingest.video import is_loaded, library_path, native
line = json.dumps({"event_id": str(uuid.UUID(int=7)), "camera_id": "CAM001", "ts": "2024-03-01T09:00:00+08:00",
                   "type": "headcount", "count": 12}).encode()
parts, ids = [], []
rejected = native.NATIVE.convert(line, 1, 5, lambda v: parts.append(bytes(v)), lambda v: ids.append(bytes(v))) \
    if is_loaded() else None
print(json.dumps({"package": supervision.__file__, "loaded": is_loaded(), "library": str(library_path()),
                  "rejected": rejected, "tuple_bytes": len(b"".join(parts)), "ids": b"".join(ids).hex()}))
"""


def _uv() -> str:
    for candidate in (os.environ.get("UV"), REPO / ".tools" / "boot" / "bin" / "uv", shutil.which("uv"),
                      Path(sys.executable).with_name("uv")):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    pytest.fail("uv not found (make env installs it in .tools/boot; or set UV)")


def _copy_sources(dest: Path) -> None:
    """What the image's build stage copies: the build configuration and the package's sources,
    without local build output."""
    for name in ("pyproject.toml", "README.md", "MANIFEST.in"):
        shutil.copy2(REPO / name, dest / name)
    shutil.copytree(PACKAGE, dest / "plugins" / "supervision",
                    ignore=shutil.ignore_patterns("target", "__pycache__", "*.pyc", "*.so", "*.egg-info"))


def _package_data_files() -> set[str]:
    """Every file the package holds besides its modules and the crate, as wheel paths."""
    out = set()
    for path in PACKAGE.rglob("*"):
        rel = path.relative_to(PACKAGE.parent)
        if (path.is_file() and path.suffix not in (".py", ".pyc", ".so") and "__pycache__" not in rel.parts
                and not rel.as_posix().startswith("supervision/ingest/native/")):
            out.add(rel.as_posix())
    return out


@pytest.mark.timeout(600)
def test_a_wheel_carries_the_native_parser_and_a_scratch_venv_loads_it(tmp_path):
    if shutil.which("cargo") is None:
        pytest.skip("cargo is not installed: the package builds without its native parser here")
    uv = _uv()
    src, dist, venv = tmp_path / "src", tmp_path / "dist", tmp_path / "venv"
    src.mkdir()
    _copy_sources(src)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["CARGO_TARGET_DIR"] = str(tmp_path / "cargo-target")
    subprocess.run([uv, "build", "--quiet", "--wheel", "--out-dir", str(dist), "--python", sys.executable, str(src)],
                   check=True, env=env, cwd=tmp_path, timeout=540)
    wheel = next(dist.glob("supervision-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    libraries = [n for n in names if n.startswith(f"supervision/ingest/video/{native.LIBRARY_NAME}")]
    assert len(libraries) == 1, sorted(n for n in names if not n.endswith(".py"))
    missing = _package_data_files() - names
    assert not missing, f"files of the package not in the wheel (pyproject.toml package-data): {sorted(missing)}"
    assert not [n for n in names if n.startswith("supervision/ingest/native/")], "the crate's sources are not shipped"

    # a venv holding only the wheel; the dependencies from this environment's site-packages (a
    # plain path line: its .pth files, among them the editable install of the sources, stay unread)
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True, env=env, timeout=120)
    py = venv / "bin" / "python"
    subprocess.run([uv, "pip", "install", "--quiet", "--no-deps", "--python", str(py), str(wheel)],
                   check=True, env=env, timeout=120)
    site = Path(subprocess.run([str(py), "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "zz_shared_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    probe = subprocess.run([str(py), "-I", "-c", _PROBE], capture_output=True, text=True, env=env, cwd=tmp_path,
                           timeout=120)
    assert probe.returncode == 0, probe.stderr
    got = json.loads(probe.stdout.strip().splitlines()[-1])
    assert Path(got["package"]).is_relative_to(site), got  # the wheel's package, not the sources
    assert got["loaded"] is True, got
    library = Path(got["library"])
    assert library.is_relative_to(site / "supervision" / "ingest" / "video"), got
    assert library.name == Path(libraries[0]).name
    assert got["rejected"] == [] and got["tuple_bytes"] > 60 and got["ids"] == f"{7:032x}", got


def test_without_a_library_the_loader_parses_in_python(tmp_path, monkeypatch):
    monkeypatch.setattr(native, "library_candidates", lambda: [tmp_path / "libsupervision_video.so"])
    assert native.library_path() is None and native._load() is None
    monkeypatch.setenv("SUPERVISION_VIDEO_NATIVE", "0")
    monkeypatch.setattr(native, "library_candidates", lambda: [Path(__file__)])  # would fail to load anyway
    assert native._load() is None


def test_the_library_is_looked_for_in_the_package_first():
    here = Path(native.__file__).resolve().parent
    candidates = native.library_candidates()
    assert candidates[0].parent == here and candidates[0].name.startswith(native.LIBRARY_NAME)
    assert candidates[-1] == native.CRATE / "target" / "release" / "libsupervision_video.so"
    if native.NATIVE is not None:
        assert native.NATIVE.path == native.library_path()
