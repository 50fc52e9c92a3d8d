"""The image's video parser is the native one: docker/Dockerfile has a stage that builds the
package's wheel with a Rust toolchain and fails without the native library, and the runtime stage
installs that wheel (not the sources) and checks that the loader uses the library. Read from the
Dockerfile's instructions (no Docker engine here); tests/ingest/test_native_build.py builds such a
wheel for real and imports the library from it."""
from __future__ import annotations

import re
import shlex

from .test_deploy_files import REPO, dockerfile_instructions


def _stages() -> list[tuple[str | None, list[tuple[str, str]]]]:
    """(stage name, its instructions) for every FROM, in order."""
    stages: list[tuple[str | None, list[tuple[str, str]]]] = []
    for word, rest in dockerfile_instructions():
        if word == "FROM":
            m = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", rest, re.I)
            assert m, rest
            stages.append((m.group(2), []))
        elif stages:
            stages[-1][1].append((word, rest))
    return stages


def test_a_build_stage_makes_the_wheel_with_the_native_library():
    stages = _stages()
    assert len(stages) >= 2
    builders = [(name, steps) for name, steps in stages[:-1]
                if any("uv build --wheel" in r or "pip wheel" in r for w, r in steps if w == "RUN")]
    assert builders, "no stage builds the package's wheel"
    name, steps = builders[0]
    runs = " ".join(r for w, r in steps if w == "RUN")
    # a Rust toolchain: Debian's packages (the crate's rust-version is Debian 12's rustc)
    apt = re.search(r"apt-get install [^&]*", runs)
    assert apt and {"cargo", "rustc"} <= set(shlex.split(apt.group(0))), runs
    rust_version = re.search(r'rust-version = "([\d.]+)"',
                             (REPO / "plugins/supervision/ingest/native/Cargo.toml").read_text())
    assert rust_version and rust_version.group(1) == "1.63"
    # the crate and the build configuration are in the stage
    copied = " ".join(r for w, r in steps if w == "COPY").split()
    assert "pyproject.toml" in copied and any(c.startswith("plugins/supervision") for c in copied)
    # the build fails when the wheel lacks the library (it is optional in the package's build)
    assert "libsupervision_video" in runs and "sys.exit" in runs


def test_the_runtime_stage_installs_that_wheel_and_uses_the_native_parser():
    stages = _stages()
    builder = next(name for name, steps in stages[:-1]
                   if any("uv build --wheel" in r for w, r in steps if w == "RUN"))
    _, runtime = stages[-1]
    copies = [r for w, r in runtime if w == "COPY" and f"--from={builder}" in r]
    assert copies, "the runtime stage takes nothing from the wheel stage"
    wheel_dir = copies[0].split()[-1]
    runs = [r for w, r in runtime if w == "RUN"]
    install = next((r for r in runs if "pip install" in r and wheel_dir in r and ".whl" in r), None)
    assert install, f"no RUN installs the wheel from {wheel_dir}"
    assert "--no-deps" in install  # the dependencies come from the lock (uv sync --frozen)
    # the project is the wheel, not an editable install of the sources
    assert any("uv sync" in r and "--no-install-project" in r for r in runs)
    assert not any("uv sync" in r and "--no-install-project" not in r for r in runs)
    assert "rm -rf" in install and "plugins/supervision" in install
    # the image build fails unless the loader uses the native library
    assert "is_loaded()" in install and "assert" in install
    # no compiler in the runtime stage
    assert not any(re.search(r"apt-get install [^&]*\b(cargo|rustc|gcc)\b", r) for r in runs)


def test_the_wheel_stage_gets_no_local_build_output():
    ignore = (REPO / "docker" / "Dockerfile.dockerignore").read_text().split()
    for entry in ("plugins/supervision/ingest/native/target", "build", "**/*.so"):
        assert entry in ignore, entry
