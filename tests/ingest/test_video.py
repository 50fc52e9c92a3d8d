"""Video events: every line accounted for, late files, re-deliveries, damaged files, reruns."""
from __future__ import annotations

import gzip
import json
import uuid
from datetime import date

import psycopg
import pytest

from supervision.ingest.video import list_pending_files, load_video, load_video_file

from .conftest import audit_rows, fingerprints, quarantine_reasons, write_jsonl_gz

D1, D2 = "2024-03-01", "2024-03-02"


def ev(kind: str = "status", camera: str = "CAM001", ts: str = "2024-03-01T09:00:00+08:00", **extra) -> dict:
    e = {"event_id": str(uuid.uuid4()), "camera_id": camera, "ts": ts, "type": kind}
    e.update({"status": {"state": "online"}, "headcount": {"count": 12},
              "face": {"trainee_id": "T0001", "score": 0.91}}.get(kind, {}))
    e.update(extra)
    return e


def events(url: str) -> dict[str, tuple]:
    with psycopg.connect(url) as conn:
        return {str(r[0]): r[1:] for r in conn.execute(
            "select event_id, camera_id, type, state, count, trainee_id, score, local_date, line_no"
            " from raw_video.events")}


def test_every_line_is_loaded_duplicate_quarantined_or_skipped(warehouse_db, landing):
    a, b, c = ev(), ev("headcount"), ev("face", trainee_id=None, score=1)
    lines = [
        a, b, c,
        a,                                                   # 4: repeated within the file
        "",                                                  # 5: blank
        "{not json",                                         # 6
        "[1, 2]",                                            # 7: JSON but not an object
        ev("smoke"),                                         # 8: unknown type
        {k: v for k, v in ev().items() if k != "camera_id"},  # 9: missing camera_id
        ev(event_id="not-a-uuid"),                           # 10
        ev(ts="2024-03-01T09:00:00"),                        # 11: no offset
        ev(ts="yesterday"),                                  # 12
        ev(state="asleep"),                                  # 13
        ev("headcount", count=-1),                           # 14
        ev("headcount", count=2.5),                          # 15
        ev("face", score=1.5),                               # 16
        ev(camera="CAM999-UNKNOWN"),                         # 17: unknown camera: loaded
        ev(ts="2024-03-01 09:05:00+08:00"),                  # 18: ISO with a space: loaded (slow path)
        ev("headcount", count=0, state="online"),            # 19: extra field of another type: ignored
    ]
    write_jsonl_gz(landing, D1, "a.jsonl.gz", lines)
    summary = load_video(landing, warehouse_db, "run-1")
    assert summary["failed_files"] == []
    assert summary["received"] == len(lines)
    assert (summary["loaded"], summary["duplicates"], summary["skipped"]) == (6, 1, 1)
    assert summary["quarantined"] == 11
    reasons = {loc: r for (_, loc), r in quarantine_reasons(warehouse_db, "video").items()}
    assert reasons == {"6": "not_json", "7": "not_object", "8": "unknown_type", "9": "missing:camera_id",
                       "10": "bad_event_id", "11": "ts_without_offset", "12": "bad_ts", "13": "bad_state",
                       "14": "bad_count", "15": "bad_count", "16": "bad_score"}
    loaded = events(warehouse_db)
    assert loaded[a["event_id"]] == ("CAM001", "status", "online", None, None, None, date(2024, 3, 1), 1)
    assert loaded[c["event_id"]][1:6] == ("face", None, None, None, 1)
    assert loaded[lines[18]["event_id"]][1:4] == ("headcount", None, 0)
    with psycopg.connect(warehouse_db) as conn:
        raw = conn.execute("select raw_text from ops.quarantine where locator = '6'").fetchone()[0]
        ts = conn.execute("select ts = '2024-03-01 01:00:00+00' from raw_video.events where event_id = %s",
                          (a["event_id"],)).fetchone()[0]
    assert raw == "{not json" and ts
    [audit] = audit_rows(warehouse_db, "video")
    assert (audit["received"], audit["loaded"], audit["duplicates"], audit["quarantined"], audit["skipped"]) == \
        (19, 6, 1, 11, 1)

    # A rerun finds nothing to do and changes nothing.
    before = fingerprints(warehouse_db, ("raw_video", "ops"))
    again = load_video(landing, warehouse_db, "run-2")
    assert again["files"] == 0
    assert fingerprints(warehouse_db, ("raw_video", "ops")) == before


def test_truncated_and_unreadable_files_do_not_stop_the_others(warehouse_db, landing):
    good = [ev() for _ in range(3)]
    write_jsonl_gz(landing, D1, "good.jsonl.gz", good)
    long = [ev("headcount", count=i) for i in range(2000)]
    path = write_jsonl_gz(landing, D1, "cut.jsonl.gz", long)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    (landing / "video" / f"date={D1}" / "garbage.jsonl.gz").write_bytes(b"this is not gzip at all")
    summary = load_video(landing, warehouse_db, "run-1", workers=1)
    by_path = {r["path"].rsplit("/", 1)[1]: r for r in summary["results"]}
    assert by_path["good.jsonl.gz"]["loaded"] == 3
    cut = by_path["cut.jsonl.gz"]
    assert 0 < cut["loaded"] < 2000 and cut["quarantined"] == 1 and cut["received"] == cut["loaded"] + 1
    assert by_path["garbage.jsonl.gz"]["status"] == "failed"
    reasons = quarantine_reasons(warehouse_db, "video")
    assert reasons[(f"video/date={D1}/cut.jsonl.gz", str(cut["loaded"] + 1))] == "truncated_gzip"
    assert reasons[(f"video/date={D1}/garbage.jsonl.gz", "file")] == "not_gzip"
    # The loaded part of the cut file is exactly its first lines.
    got = events(warehouse_db)
    assert all(e["event_id"] in got for e in long[: cut["loaded"]])
    assert not any(e["event_id"] in got for e in long[cut["loaded"]:])
    with psycopg.connect(warehouse_db) as conn:
        manifest = dict(conn.execute("select path, sha256 from ops.file_manifest"))
    assert manifest[f"video/date={D1}/cut.jsonl.gz"] == __import__("hashlib").sha256(path.read_bytes()).hexdigest()
    # The failed file is recorded, not retried on every run.
    assert list_pending_files(landing, warehouse_db) == []


def test_multi_member_gzip_is_read_whole(warehouse_db, landing):
    first, second = [ev() for _ in range(3)], [ev() for _ in range(2)]
    folder = landing / "video" / f"date={D1}"
    folder.mkdir(parents=True)
    member = lambda es: gzip.compress(("\n".join(json.dumps(e) for e in es) + "\n").encode())  # noqa: E731
    (folder / "m.jsonl.gz").write_bytes(member(first) + member(second))
    summary = load_video(landing, warehouse_db, "run-1")
    assert (summary["received"], summary["loaded"], summary["quarantined"]) == (5, 5, 0)


def test_late_file_in_an_old_folder_and_a_redelivery(warehouse_db, landing):
    day1 = [ev() for _ in range(5)]
    day2 = [ev(ts="2024-03-02T10:00:00+08:00") for _ in range(4)]
    write_jsonl_gz(landing, D1, "part-1.jsonl.gz", day1)
    write_jsonl_gz(landing, D2, "part-1.jsonl.gz", day2)
    # The run for day 1 does not read day 2's folder.
    first = load_video(landing, warehouse_db, "run-d1", day=date(2024, 3, 1))
    assert (first["files"], first["loaded"]) == (1, 5)
    second = load_video(landing, warehouse_db, "run-d2", day=date(2024, 3, 2))
    assert (second["files"], second["loaded"]) == (1, 4)
    # Late: a new file in day 1's folder, re-delivering 3 known events plus 2 new ones.
    late_new = [ev() for _ in range(2)]
    write_jsonl_gz(landing, D1, "part-2-late.jsonl.gz", day1[:3] + late_new)
    assert list_pending_files(landing, warehouse_db, day=date(2024, 3, 3)) == [f"video/date={D1}/part-2-late.jsonl.gz"]
    third = load_video(landing, warehouse_db, "run-d3", day=date(2024, 3, 3))
    assert (third["files"], third["received"], third["loaded"], third["duplicates"]) == (1, 5, 2, 3)
    got = events(warehouse_db)
    assert len(got) == 11
    # The first delivery of a re-delivered event is kept (line numbers of part-1).
    with psycopg.connect(warehouse_db) as conn:
        fid = conn.execute("select file_id from ops.file_manifest where path like %s",
                           (f"%{D1}/part-1%",)).fetchone()[0]
        firsts = conn.execute("select count(*) from raw_video.events where file_id = %s", (fid,)).fetchone()[0]
    assert firsts == 5


def test_a_changed_file_is_reported_once_and_not_reloaded(warehouse_db, landing):
    path = write_jsonl_gz(landing, D1, "a.jsonl.gz", [ev() for _ in range(3)])
    load_video(landing, warehouse_db, "run-1")
    write_jsonl_gz(landing, D1, "a.jsonl.gz", [ev() for _ in range(4)])  # rewritten in place
    assert path.exists()
    for run in ("run-2", "run-3"):
        summary = load_video(landing, warehouse_db, run)
        assert summary["files"] == 0
    assert len(events(warehouse_db)) == 3
    failed = [a for a in audit_rows(warehouse_db, "video") if a["status"] == "failed"]
    assert len(failed) == 1 and "changed after it was loaded" in failed[0]["message"]


@pytest.mark.parametrize("parser", ["native", "python"])
def test_parallel_workers_share_ids_without_loss_or_deadlock(warehouse_db, landing, parser, monkeypatch):
    """Two workers: threads with the native parser, subprocesses with the Python one."""
    from supervision.ingest import video

    if parser == "native" and video.native.NATIVE is None:
        pytest.skip("native fast path not built (make env builds it with cargo)")
    if parser == "python":  # the subprocesses read the switch from their environment
        monkeypatch.setenv("SUPERVISION_VIDEO_NATIVE", "0")
        monkeypatch.setattr(video.native, "NATIVE", None)
    shared = [ev() for _ in range(300)]
    for i in range(4):
        write_jsonl_gz(landing, D1, f"w{i}.jsonl.gz", shared + [ev() for _ in range(50)])
    summary = load_video(landing, warehouse_db, "run-1", workers=2)
    assert summary["failed_files"] == []
    assert summary["received"] == 4 * 350
    assert summary["loaded"] == 300 + 4 * 50
    assert summary["duplicates"] == 3 * 300
    assert len(events(warehouse_db)) == 500


def test_a_single_file_load_is_idempotent_when_called_twice(warehouse_db, landing):
    write_jsonl_gz(landing, D1, "a.jsonl.gz", [ev() for _ in range(3)])
    path = f"video/date={D1}/a.jsonl.gz"
    from supervision.warehouse import bootstrap

    bootstrap(warehouse_db)
    assert load_video_file(landing, warehouse_db, "r1", path)["loaded"] == 3
    assert load_video_file(landing, warehouse_db, "r2", path)["status"] == "already_loaded"
    assert len(events(warehouse_db)) == 3
