"""The native fast path of the video loader (Rust, native/src/lib.rs) loads exactly what the Python
path loads (both send binary COPY): the same rows (every column, the score's decimal text included), the same quarantine
records with the same reasons, the same per-file counts, on lines made to sit on every edge of
what the fast path takes and hands back."""
from __future__ import annotations

import json
import uuid

import pytest

from supervision.ingest.video import load_video
from supervision.ingest.video import native as video_native
from supervision.ingest.video.partitions import repeated_ids

from .conftest import write_jsonl_gz
from .test_video_bulk import _content, second_db  # noqa: F401 - fixture

D1 = "2024-03-01"

pytestmark = pytest.mark.skipif(video_native.NATIVE is None, reason="native fast path not built (no cargo when the package was installed): make env builds it")


def _u() -> str:
    return str(uuid.uuid4())


def _line(**fields) -> str:
    base = {"event_id": _u(), "camera_id": "CAM001", "ts": "2024-03-01T09:00:00+08:00", "type": "status", "state": "online"}
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not _DROP}, ensure_ascii=False)


_DROP = object()


def _j(rest: str) -> str:
    """A line written by hand: a fresh event_id, then ``rest`` as given."""
    return '{"event_id": "' + _u() + '", ' + rest


def _edge_lines() -> list[str]:
    ok_face = dict(type="face", state=_DROP, trainee_id="T0001", score=0.5)
    lines = [
        # plain events of the three types, then every form of event_id
        _line(), _line(type="headcount", state=_DROP, count=12), _line(**ok_face),
        _line(event_id=uuid.uuid4().hex), _line(event_id=_u().upper()), _line(event_id="{" + _u() + "}"),
        _line(event_id=uuid.uuid4().hex[:31]), _line(event_id=_u().replace("-", "--")), _line(event_id="urn:uuid:" + _u()),
        _line(event_id="zz" + uuid.uuid4().hex[2:]), _line(event_id=12345), _line(event_id=None), _line(event_id=_DROP),
        # strings: escapes, unicode, empty, control characters
        _j('"camera_id": "CAM\\u00e9\\t1", "ts": "2024-03-01T09:00:00Z", "type": "status", "state": "online"}'),
        _line(camera_id="攝像頭一號"), _line(camera_id=""), _line(camera_id=None), _line(camera_id=7),
        _line(camera_id="back\\slash"), _line(**{**ok_face, "trainee_id": ""}), _line(**{**ok_face, "trainee_id": None}),
        _line(**{**ok_face, "trainee_id": "T\"q"}), _line(**{**ok_face, "trainee_id": 9}),
        _j('"camera_id": "C\x01", "ts": "2024-03-01T09:00:00Z", "type": "status", "state": "online"}'),
        # timestamps
        _line(ts="2024-03-01T09:00:00Z"), _line(ts="2024-03-01T09:00:00.5+08:00"), _line(ts="2024-03-01T09:00:00.123456-05:30"),
        _line(ts="2024-03-01T09:00:00.1234567+08:00"), _line(ts="2024-03-01T09:00:00-00:00"), _line(ts="2024-03-01 09:00:00+08:00"),
        _line(ts="2024-03-01T09:00:00"), _line(ts="2024-03-01T09:00+08:00"), _line(ts="2024-02-29T23:59:59+08:00"),
        _line(ts="2023-02-29T10:00:00+08:00"), _line(ts="2024-04-31T10:00:00+08:00"), _line(ts="2024-03-01T24:00:00+08:00"),
        _line(ts="2024-03-01T23:59:60+08:00"), _line(ts="2024-03-01t09:00:00z"), _line(ts="2024-03-01T09:00:00+0800"),
        _line(ts="2024-03-01T09:00:00+24:00"), _line(ts="1899-12-31T23:00:00+08:00"), _line(ts="20240301T090000Z"),
        _line(ts=1709254800), _line(ts=None), _line(ts="2000-02-29T12:00:00+14:00"), _line(ts="1900-02-29T12:00:00Z"),
        _line(ts="1900-01-01T00:00:00+08:00"), _line(ts="2999-12-31T23:59:59-23:59"), _line(ts="2024-12-31T23:59:59.999999Z"),
        _line(ts="1970-01-01T00:00:00.000001-00:01"), _line(ts="2100-03-01T00:00:00+00:00"),
        # type and state
        _line(type="Status"), _line(type=None), _line(type=_DROP), _line(state="asleep"), _line(state=None),
        _line(state=_DROP), _line(type="headcount", state="asleep", count=3), _line(type="headcount", state="offline", count=3),
        _line(state="tampered", count=-1), _line(state="occluded", score=2),
        # counts
        _line(type="headcount", state=_DROP, count=0), _line(type="headcount", state=_DROP, count=2**31 - 1),
        _line(type="headcount", state=_DROP, count=2**31), _line(type="headcount", state=_DROP, count=-1),
        _line(type="headcount", state=_DROP, count=5.0), _line(type="headcount", state=_DROP, count="5"),
        _line(type="headcount", state=_DROP, count=True), _line(type="headcount", state=_DROP, count=None),
        _line(type="headcount", state=_DROP, count=10**30),
        _j('"camera_id": "C", "ts": "2024-03-01T09:00:00Z", "type": "headcount", "count": 1e2}'),
        _j('"camera_id": "C", "ts": "2024-03-01T09:00:00Z", "type": "headcount", "count": 012}'),
        # scores: the decimal text that must survive
        *[_line(**{**ok_face, "score": s}) for s in (0, 1, 0.0, 1.0, 0.1, 0.75, 1e-7, 5e-324, 0.3333333333333333, 0.9999999999999999,
                                                   1.5, -0.1, "0.5", True, None, 0.30000000000000004, 1e-5, 0.0001,
                                                   0.00012345, 0.12345678, 0.5000001, 0.10000000000000001)],
        _j('"camera_id": "C\\ud800", "ts": "2024-03-01T09:00:00Z", "type": "status", "state": "online"}'),
        _j('"camera_id": "C\\ud83d\\ude00", "ts": "2024-03-01T09:00:00Z", "type": "status", "state": "online"}'),
        *[_j('"camera_id": "C", "ts": "2024-03-01T09:00:00Z", "type": "face", "trainee_id": "T", "score": ' + s + '}')
          for s in ("-0", "-0.0", "1E-2", "0.50", "1e0", "0.", ".5", "00.5", "1e", "NaN", "Infinity")],
        # shapes: unknown fields, nesting, duplicates, whitespace, not JSON
        _line(extra="x", more=None, n=1.5, flag=False), _line(nested={"a": 1}), _line(array=[1, 2]),
        _j('"camera_id": "C", "ts": "2024-03-01T09:00:00Z", "type": "status", "state": "online", "state": "offline"}'),
        _j('"camera_id": "C", "ts": "2024-03-01T09:00:00Z", "type": "status", "state": "online", "x": 1, "x": 2}'),
        '  {"event_id":"' + _u() + '","camera_id":"C","ts":"2024-03-01T09:00:00Z","type":"status","state":"online"}  \r',
        _j('"camera_id": "C", "ts": "2024-03-01T09:00:00Z", "type": "status", "state": "online"} x'),
        _j('"camera_id": "C", "ts": "2024-03-01T09:00:00Z", "type": "status", "state": "online",}'),
        "", "   ", "\t", "{}", "[]", "null", "42", '"text"', "{oops", '{"event_id": ',
    ]
    return lines


def test_native_and_python_paths_load_the_same(warehouse_db, second_db, landing, monkeypatch):  # noqa: F811
    lines = _edge_lines()
    write_jsonl_gz(landing, D1, "a.jsonl.gz", lines)
    # invalid UTF-8 and a NUL byte, which json.dumps cannot write
    raw = ("\n".join(lines[:3]) + "\n").encode() + b'{"event_id": "%s", "camera_id": "C\xff", "ts": "2024-03-01T09:00:00Z",' \
        b' "type": "status", "state": "online"}\n' % _u().encode() + b'{"camera_id": "C\x00"}\n'
    import gzip

    (landing / "video" / f"date={D1}" / "b.jsonl.gz").write_bytes(gzip.compress(raw))
    native = load_video(landing, warehouse_db, "native", workers=1)
    monkeypatch.setattr(video_native, "NATIVE", None)
    python = load_video(landing, second_db, "python", workers=1)
    assert native["failed_files"] == python["failed_files"] == []
    got, want = _content(warehouse_db), _content(second_db)
    assert got[0] == want[0]
    assert got[1] == want[1]
    assert got[2] == want[2]
    assert {k: native[k] for k in ("received", "loaded", "duplicates", "quarantined", "skipped")} == \
           {k: python[k] for k in ("received", "loaded", "duplicates", "quarantined", "skipped")}
    # the edges are real: both outcomes occur, and the fast path took most lines itself
    assert native["loaded"] > 40 and native["quarantined"] > 40 and native["skipped"] == 3
    scores = {r[7] for r in got[0] if r[3] == "face"}
    assert {"0", "1", "0.1", "0.75", "0.0000001", "0.3333333333333333", "0.9999999999999999", "0.01"} <= scores


def _tuples(data: bytes) -> list[list[bytes | None]]:
    """Binary COPY tuples (no header) as lists of raw fields, None for NULL."""
    import struct

    rows, i = [], 0
    while i < len(data):
        (n,) = struct.unpack_from(">h", data, i)
        i += 2
        fields = []
        for _ in range(n):
            (size,) = struct.unpack_from(">i", data, i)
            i += 4
            fields.append(None if size < 0 else data[i:i + size])
            i += max(size, 0)
        rows.append(fields)
    return rows


def test_native_fast_path_takes_plain_lines_and_hands_back_the_rest():
    import struct
    from datetime import datetime, timedelta, timezone

    plain = [_line(), _line(type="headcount", state=_DROP, count=3), _line(type="face", state=_DROP, trainee_id="T", score=0.25)]
    run = "\n".join([*plain, "", _line(ts="2024-03-01T09:00:00"), _line(camera_id="C\\u00e9")]).encode()
    parts: list[bytes] = []
    ids: list[bytes] = []
    rejected = video_native.NATIVE.convert(run, 10, 7, lambda view: parts.append(bytes(view)),
                                     lambda view: ids.append(bytes(view)))
    rows = _tuples(b"".join(parts))
    assert b"".join(ids) == b"".join(r[0] for r in rows)  # the event ids of the tuples, in order
    lines = run.split(b"\n")
    assert len(rows) == 3 and [k for k, _, _ in rejected] == [3, 4, 5]
    assert [run[start:end] for _, start, end in rejected] == lines[3:6]
    assert all(len(r) == 10 for r in rows)
    assert [struct.unpack(">i", r[8])[0] for r in rows] == [10, 11, 12]
    assert {struct.unpack(">q", r[9])[0] for r in rows} == {7}
    assert [r[0] for r in rows] == [uuid.UUID(json.loads(line)["event_id"]).bytes for line in plain]
    assert [r[3:5] for r in rows] == [[b"status", b"online"], [b"headcount", None], [b"face", None]]
    assert struct.unpack(">i", rows[1][5])[0] == 3 and rows[0][5] is None
    assert rows[2][6] == b"T" and rows[0][6] is None
    # numeric 0.25: one base-10000 digit 2500, weight -1, positive, display scale 2
    assert rows[2][7] == struct.pack(">hhHhh", 1, -1, 0, 2, 2500) and rows[0][7] is None
    # timestamptz: microseconds since 2000-01-01 UTC
    at = datetime(2024, 3, 1, 9, tzinfo=timezone(timedelta(hours=8)))
    want = (at - datetime(2000, 1, 1, tzinfo=timezone.utc)) // timedelta(microseconds=1)
    assert {struct.unpack(">q", r[2])[0] for r in rows} == {want}


def test_native_and_python_find_the_same_repeated_ids(monkeypatch):
    import random

    rnd = random.Random(3)
    ids = [rnd.randbytes(16) for _ in range(5000)]
    ids += rnd.sample(ids, 300) + rnd.sample(ids, 40) + [b"\x00" * 16, b"\x00" * 16, b"\xff" * 16, b"\xff" * 16, b"\xff" * 16]
    rnd.shuffle(ids)
    blob = b"".join(ids)
    want = b"".join(sorted({i for i in ids if ids.count(i) > 1}))
    fast = repeated_ids(blob)
    monkeypatch.setattr(video_native, "NATIVE", None)
    assert fast == repeated_ids(blob) == want
    assert len(want) // 16 >= 300 and repeated_ids(b"") == b""


def test_native_newline_count_equals_bytes_count():
    import random

    rnd = random.Random(5)
    for n in (0, 1, 7, 8, 9, 63, 64, 65, 4097):
        run = bytes(rnd.choice(b"\n\n\x0b\x09\x8a\xff\x00a{") for _ in range(n))
        assert video_native.NATIVE.count_newlines(run) == run.count(b"\n"), n
