"""The video parser's native fast path (the Rust crate in ``ingest/native``), through ctypes.

The package's build (setuptools-rust, see pyproject.toml) compiles the crate with cargo and puts
the library inside this package as ``libsupervision_video<EXT_SUFFIX>`` (``uv sync`` in place,
a wheel in the wheel). Where no Rust toolchain was present at build time the library is absent
and the loader parses in Python: same rows, more CPU per event. A library that ``cargo build``
left in the crate's ``target/release`` (work on the Rust itself) is the second choice.

``NATIVE`` is the loaded library or None; the loader reads it at call time, so a test may set it
to None to take the Python path.
"""
from __future__ import annotations

import importlib.machinery
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

LIBRARY_NAME = "libsupervision_video"
CRATE = Path(__file__).resolve().parents[1] / "native"


class NativeParser:
    """The Rust fast path (native/src/lib.rs): ``convert`` turns a run of lines into binary COPY
    tuples and names the lines it did not take; ``repeated`` finds the ids that occur more than
    once; ``count_newlines`` counts a run's lines. The GIL is released during the calls."""

    VERSION = 6  # of the Result layout, the row format and the functions (lib.rs fv_version)

    def __init__(self, path: Path):
        import ctypes

        class Result(ctypes.Structure):
            _fields_ = [("out_ptr", ctypes.c_void_p), ("out_len", ctypes.c_size_t), ("out_cap", ctypes.c_size_t),
                        ("rej_ptr", ctypes.c_void_p), ("rej_len", ctypes.c_size_t), ("rej_cap", ctypes.c_size_t),
                        ("ids_ptr", ctypes.c_void_p), ("ids_len", ctypes.c_size_t), ("ids_cap", ctypes.c_size_t)]

        lib = ctypes.CDLL(str(path))
        lib.fv_version.restype = ctypes.c_uint32
        if lib.fv_version() != self.VERSION:
            raise ImportError(f"{path}: row format {lib.fv_version()}, expected {self.VERSION}: rebuild it (make env)")
        lib.fv_convert.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int64, ctypes.c_int64,
                                   ctypes.POINTER(Result)]
        lib.fv_convert.restype = None
        lib.fv_repeated.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(Result)]
        lib.fv_repeated.restype = None
        lib.fv_count_newlines.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
        lib.fv_count_newlines.restype = ctypes.c_size_t
        lib.fv_free.argtypes = [ctypes.POINTER(Result)]
        lib.fv_free.restype = None
        self.path = path
        self._lib, self._ctypes, self._result = lib, ctypes, Result

    def convert(self, run: bytes, first_line: int, file_id: int, write: Callable[[memoryview], Any],
                write_ids: Callable[[memoryview], Any]) -> list[tuple[int, int, int]]:
        """Hands the run's tuples to ``write`` and their event ids (16 bytes each) to ``write_ids``
        (views of the native buffers, valid during the call: no copy) and returns the lines not
        taken as (index in the run, start, end offsets)."""
        ct = self._ctypes
        res = self._result()
        self._lib.fv_convert(run, len(run), first_line, file_id, ct.byref(res))
        try:
            if res.out_len:
                write(memoryview((ct.c_char * res.out_len).from_address(res.out_ptr)).cast("B"))
                write_ids(memoryview((ct.c_char * res.ids_len).from_address(res.ids_ptr)).cast("B"))
            flat = list((ct.c_uint32 * res.rej_len).from_address(res.rej_ptr)) if res.rej_len else []
        finally:
            self._lib.fv_free(ct.byref(res))
        return list(zip(flat[0::3], flat[1::3], flat[2::3], strict=True))

    def count_newlines(self, run: bytes) -> int:
        return self._lib.fv_count_newlines(run, len(run))

    def repeated(self, ids: bytes) -> bytes:
        """The 16-byte ids that occur more than once in ``ids`` (16 bytes each), each once."""
        ct = self._ctypes
        res = self._result()
        self._lib.fv_repeated(ids, len(ids), ct.byref(res))
        try:
            return ct.string_at(res.out_ptr, res.out_len) if res.out_len else b""
        finally:
            self._lib.fv_free(ct.byref(res))


def library_candidates() -> list[Path]:
    """Where the library may be, best first: inside this package (the package's build), then the
    crate's cargo output."""
    here = Path(__file__).resolve().parent
    found = [here / (LIBRARY_NAME + suffix) for suffix in importlib.machinery.EXTENSION_SUFFIXES]
    found += sorted(p for p in here.glob(LIBRARY_NAME + "*.so") if p not in found)
    return [*found, CRATE / "target" / "release" / (LIBRARY_NAME + ".so")]


def library_path() -> Path | None:
    """The library the loader uses, or None when none was built."""
    return next((p for p in library_candidates() if p.is_file()), None)


def _load() -> NativeParser | None:
    """The fast path when it is built and not switched off (SUPERVISION_VIDEO_NATIVE=0); else
    None, and the loader parses in Python (same rows, more CPU per event)."""
    from supervision.config import settings

    if not settings().video_native:
        return None
    path = library_path()
    if path is None:
        return None
    try:
        return NativeParser(path)
    except (OSError, ImportError) as err:
        log.warning("video native fast path not used: %s", err)
        return None


NATIVE: NativeParser | None = _load()


def is_loaded() -> bool:
    """Whether the loader parses with the native library (else in Python)."""
    return NATIVE is not None


def count_newlines(run: bytes) -> int:
    return NATIVE.count_newlines(run) if NATIVE is not None else run.count(b"\n")


__all__ = ["LIBRARY_NAME", "NATIVE", "NativeParser", "count_newlines", "is_loaded", "library_candidates",
           "library_path"]
