"""Rows as PostgreSQL binary COPY: the columns both parsers write, and the encoding of a row of the
line-by-line path (the native path makes the same tuples in Rust)."""
from __future__ import annotations

import struct
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from psycopg.types.numeric import DecimalBinaryDumper

# A row as both paths write it: the file's events in COPY (binary) order. event_id travels as its
# 16 bytes: a binary COPY field carries no type, and uuid's binary form is exactly those bytes, so
# psycopg's (C) bytea dumper sends it and the server reads it as the uuid column it goes into.
ROW_COLUMNS = ("event_id", "camera_id", "ts", "type", "state", "count", "trainee_id", "score", "line_no",
               "file_id")
ROW_TYPES = ("bytea", "text", "timestamptz", "text", "text", "int4", "text", "numeric", "int4", "int8")

COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
COPY_TRAILER = b"\xff\xff"
_NULL = struct.pack(">i", -1)
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)
_numeric_binary = DecimalBinaryDumper(Decimal).dump


def _sized(b: bytes) -> bytes:
    return struct.pack(">i", len(b)) + b


def copy_binary(row: tuple[Any, ...]) -> bytes:
    """A row of the line-by-line path as a binary COPY tuple (the native path's format)."""
    eid, camera_id, ts, t, state, count, trainee_id, score, line_no, file_id = row
    return b"".join((
        struct.pack(">h", 10), _sized(eid), _sized(camera_id.encode()),
        struct.pack(">iq", 8, (ts - _PG_EPOCH) // _MICROSECOND), _sized(t.encode()),
        _NULL if state is None else _sized(state.encode()),
        _NULL if count is None else struct.pack(">ii", 4, count),
        _NULL if trainee_id is None else _sized(trainee_id.encode()),
        _NULL if score is None else _sized(bytes(_numeric_binary(score) or b"")),
        struct.pack(">iiiq", 4, line_no, 8, file_id)))


__all__ = ["COPY_HEADER", "COPY_TRAILER", "ROW_COLUMNS", "ROW_TYPES", "copy_binary"]
