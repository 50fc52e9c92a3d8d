"""The bulk path of the video loader (a new day: load table, indexes built once, attached) against
the merge path (file by file into an existing partition): same rows, same counts; an interrupted
bulk load is finished by the next run; nothing is visible before the day is attached."""
from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import psycopg
import pytest

from supervision.ingest.video import (
    finish_load,
    load_table_name,
    load_video,
    load_video_file,
    load_video_files,
    plan_load,
)
from supervision.warehouse import bootstrap

from .conftest import audit_rows, write_jsonl_gz
from .test_video import ev

D1 = "2024-03-01"
DAY1 = date(2024, 3, 1)


def _day_files(landing: Path) -> dict[str, int]:
    """Three files of one day: cross-file re-deliveries (first delivery = path order), a repeat
    within a file, bad and blank lines, and face scores whose decimal text must survive."""
    base = [ev(camera=f"CAM{i % 7:03d}", ts=f"2024-03-01T09:{i % 60:02d}:00+08:00") for i in range(60)]
    scores = [ev("face", score=s) for s in (0.1, 0.75, 1, 0, 0.333333333333333314, 0.9999)]
    heads = [ev("headcount", count=c) for c in (0, 7, 2**31 - 1)]
    a = base[:40] + scores + ["{oops", ""] + heads
    b = base[30:] + [base[0]] + [ev(ts="2024-03-01T09:00:00")]  # 10 re-delivered from a, one repeat of a's
    c = base[50:55] + base[50:52] + [ev(state="asleep")] + [ev() for _ in range(5)]
    write_jsonl_gz(landing, D1, "a.jsonl.gz", a)
    write_jsonl_gz(landing, D1, "b.jsonl.gz", b)
    write_jsonl_gz(landing, D1, "c.jsonl.gz", c)
    return {"a": len(a), "b": len(b), "c": len(c)}


def _content(url: str) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Rows (file named by path, not file_id), per-file manifest counts, quarantine."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select e.event_id, e.camera_id, e.ts, e.type, e.state, e.count, e.trainee_id, e.score::text,"
            "       e.local_date, m.path, e.line_no"
            " from raw_video.events e join ops.file_manifest m using (file_id) order by 1").fetchall()
        manifest = conn.execute(
            "select path, status, received, loaded, duplicates, quarantined, skipped, sha256, size_bytes"
            " from ops.file_manifest order by path").fetchall()
        quarantine = conn.execute(
            "select object, locator, reason from ops.quarantine order by 1, 2, 3").fetchall()
    return rows, manifest, quarantine


@pytest.fixture
def second_db(pg_admin_url):
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = pg_admin_url.rsplit("/", 1)[0] + "/" + name
    bootstrap(url)
    yield url
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def test_bulk_day_equals_file_by_file_merge(warehouse_db, second_db, landing):
    sizes = _day_files(landing)
    bulk = load_video(landing, warehouse_db, "bulk", workers=2)
    assert bulk["failed_files"] == []
    # the merge path: no load table, each file merged into the day's partition in path order
    for name in ("a", "b", "c"):
        r = load_video_file(landing, second_db, "merge", f"video/date={D1}/{name}.jsonl.gz")
        assert r["status"] == "loaded"
    got, want = _content(warehouse_db), _content(second_db)
    assert got[0] == want[0]          # same rows, same first deliveries (path, line)
    assert got[1] == want[1]          # same per-file counts
    assert got[2] == want[2]
    assert bulk["received"] == sum(sizes.values())
    assert (bulk["loaded"], bulk["duplicates"], bulk["quarantined"], bulk["skipped"]) == (60 + 6 + 3 + 5, 18, 3, 1)
    per_file = {m[0].rsplit("/", 1)[1]: m[2:7] for m in got[1]}
    assert per_file["b.jsonl.gz"] == (sizes["b"], 20, 11, 1, 0)   # 10 of a's, plus a's first again
    assert per_file["c.jsonl.gz"] == (sizes["c"], 5, 7, 1, 0)     # 5 of b's, 2 repeats of them
    scores = sorted(r[7] for r in got[0] if r[3] == "face")
    assert scores == sorted(["0.1", "0.75", "1", "0", "0.3333333333333333", "0.9999"])
    with psycopg.connect(warehouse_db) as conn:
        # one partition, with the parent's indexes, no leftovers
        parts = conn.execute("select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid"
                             " where i.inhparent = 'raw_video.events'::regclass order by 1").fetchall()
        assert [p[0] for p in parts] == ["events_default", "events_p20240301"]
        idx = conn.execute("select count(*) from pg_index where indrelid = 'raw_video.events_p20240301'::regclass"
                           " and indisvalid").fetchone()[0]
        assert idx == 4  # the key, (camera_id, ts), (_loaded_at) and the faces', attached to the parent's
        attached = conn.execute("select count(*) from pg_inherits i join pg_class c on c.oid = i.inhrelid"
                                " where c.relname like 'events_load_p20240301%%idx'"
                                " and i.inhparent::regclass::text like 'raw_video.events_%%idx'").fetchone()[0]
        assert attached == 3
        assert conn.execute("select to_regclass(%s)", (load_table_name(DAY1),)).fetchone()[0] is None
        checks = conn.execute("select conname from pg_constraint where conrelid ="
                              " 'raw_video.events_p20240301'::regclass and contype = 'c'").fetchall()
        assert len(checks) == 4 and ("events_load_bounds",) not in checks  # the parent's, not the load's
    audits = audit_rows(warehouse_db, "video")
    assert sorted(a["object"].rsplit("/", 1)[1] for a in audits) == ["a.jsonl.gz", "b.jsonl.gz", "c.jsonl.gz"]
    assert all(a["received"] == a["loaded"] + a["duplicates"] + a["quarantined"] + a["skipped"] for a in audits)


def test_an_interrupted_bulk_day_is_invisible_then_finished_by_the_next_run(warehouse_db, second_db, landing):
    _day_files(landing)
    batches = plan_load(landing, warehouse_db, "run-1")
    first = sorted(p for batch in batches for p in batch)[:2]  # a and b; c is left for the next run
    staged = load_video_files(landing, warehouse_db, "run-1", first, workers=1)
    assert {r["status"] for r in staged["results"]} == {"staged"}
    with psycopg.connect(warehouse_db) as conn:
        # not published: readers of the parent table see nothing of the day yet
        assert conn.execute("select count(*) from raw_video.events").fetchone()[0] == 0
        assert conn.execute("select count(*) from ops.load_audit").fetchone()[0] == 0
    # the run dies here (no finish_load); the next run attaches what was staged, then loads the rest
    rerun = load_video(landing, warehouse_db, "run-2")
    assert rerun["files"] == 1 and rerun["failed_files"] == []
    load_video(landing, second_db, "whole")  # an uninterrupted run of the same files
    got, want = _content(warehouse_db), _content(second_db)
    assert got[0] == want[0]
    assert [m[:7] for m in got[1]] == [m[:7] for m in want[1]]
    assert got[2] == want[2]
    assert len(audit_rows(warehouse_db, "video")) == 3  # one per file, none twice
    again = load_video(landing, warehouse_db, "run-3")
    assert again["files"] == 0 and _content(warehouse_db) == got


@pytest.mark.parametrize("stored", ["all", "one_missing", "in_parts_of_3"])
def test_staged_files_store_their_event_ids_for_the_attach(warehouse_db, second_db, landing, stored, monkeypatch):
    """Each staged file's event ids wait in ops.video_staged_ids (written in the file's transaction)
    and are gone once the day is attached; a staged file without them (staged by the Python parser
    or an older loader) makes the attach read the ids from the load table: same result."""
    from supervision.ingest.video import load, native

    if native.NATIVE is None:
        pytest.skip("native fast path not built: the Python parser stores no ids")
    if stored == "in_parts_of_3":  # many rows a file, and a spool smaller than a file's ids
        monkeypatch.setattr(load, "_IDS_PART", 48)
    _day_files(landing)
    batches = plan_load(landing, warehouse_db, "run-1")
    staged = load_video_files(landing, warehouse_db, "run-1", [p for b in batches for p in b], workers=1)
    with psycopg.connect(warehouse_db) as conn:
        stored_ids = dict(conn.execute("select file_id, string_agg(event_ids, ''::bytea order by part)"
                                       " from ops.video_staged_ids group by file_id").fetchall())
        loaded_ids = dict(conn.execute(f"select file_id, string_agg(uuid_send(event_id), ''::bytea order by line_no)"
                                       f" from {load_table_name(DAY1)} group by file_id").fetchall())
        assert set(stored_ids) == {r["file_id"] for r in staged["results"]} == set(loaded_ids)
        for file_id, ids in stored_ids.items():  # every row's id, in the order of its line
            assert bytes(ids) == bytes(loaded_ids[file_id]) and len(ids) % 16 == 0 and ids
        parts = conn.execute("select max(part) from ops.video_staged_ids").fetchone()[0]
        assert parts > 1 if stored == "in_parts_of_3" else parts == 0
        if stored == "one_missing":
            conn.execute("delete from ops.video_staged_ids where file_id = %s", (min(stored_ids),))
    attached = finish_load(warehouse_db, "run-1")
    assert attached[0]["duplicates"] == 18
    load_video(landing, second_db, "whole")
    got, want = _content(warehouse_db), _content(second_db)
    assert got[0] == want[0] and [m[:7] for m in got[1]] == [m[:7] for m in want[1]] and got[2] == want[2]
    with psycopg.connect(warehouse_db) as conn:
        assert conn.execute("select count(*) from ops.video_staged_ids").fetchone()[0] == 0


def test_a_partition_made_meanwhile_gets_the_staged_rows_merged(warehouse_db, second_db, landing):
    _day_files(landing)
    batches = plan_load(landing, warehouse_db, "run-1")
    paths = sorted(p for batch in batches for p in batch)
    load_video_files(landing, warehouse_db, "run-1", paths[:2], workers=1)  # a and b staged
    from supervision.ingest.common import connect
    from supervision.ingest.video.partitions import target_for

    with connect(warehouse_db) as conn:  # another writer makes the day's partition meanwhile
        target_for(conn, DAY1)
    load_video_files(landing, warehouse_db, "run-1", paths[2:], workers=1)  # c: staged too
    attached = finish_load(warehouse_db, "run-1")
    assert [{k: a[k] for k in ("day", "files", "duplicates")} for a in attached] == [
        {"day": D1, "files": 3, "duplicates": 18}]
    assert set(attached[0]["seconds"]) >= {"lock", "files", "merge", "audit_commit"}
    load_video(landing, second_db, "whole")
    got, want = _content(warehouse_db), _content(second_db)
    assert got[0] == want[0]
    assert [m[:7] for m in got[1]] == [m[:7] for m in want[1]]


def test_bulk_path_on_postgresql_15(pg15_admin_url, landing):
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg15_admin_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = pg15_admin_url.rsplit("/", 1)[0] + "/" + name
    sizes = _day_files(landing)
    summary = load_video(landing, url, "pg15", workers=2)
    assert summary["failed_files"] == []
    assert summary["received"] == sum(sizes.values())
    assert (summary["loaded"], summary["duplicates"]) == (74, 18)
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from raw_video.events_p20240301").fetchone()[0] == 74
        assert conn.execute("select count(distinct event_id) from raw_video.events").fetchone()[0] == 74


def test_event_id_forms(warehouse_db, landing):
    u = uuid.uuid4()
    forms = [str(u), str(u).upper(), u.hex, "{" + str(u) + "}"]   # one event in four spellings
    other = uuid.uuid4()
    lines = [ev(event_id=f) for f in forms] + [
        ev(event_id="urn:uuid:" + str(other)),                     # read by uuid.UUID: loaded
        ev(event_id="g" * 32),                                      # 32 characters, not hex
        ev(event_id=str(u)[:-1]),                                   # one digit short
        ev(event_id=12345),                                         # not a string
    ]
    write_jsonl_gz(landing, D1, "ids.jsonl.gz", lines)
    summary = load_video(landing, warehouse_db, "ids")
    assert (summary["loaded"], summary["duplicates"], summary["quarantined"]) == (2, 3, 3)
    with psycopg.connect(warehouse_db) as conn:
        got = dict(conn.execute("select event_id, line_no from raw_video.events"))
        reasons = sorted(r[0] for r in conn.execute("select reason from ops.quarantine"))
    assert got == {u: 1, other: 5}  # the first spelling is the first delivery
    assert reasons == ["bad_event_id", "bad_event_id", "bad_event_id"]


def test_several_new_days_are_attached_in_parallel(warehouse_db, landing):
    days = ["2024-03-01", "2024-03-02", "2024-03-03"]
    shared = {d: [ev(ts=f"{d}T09:00:00+08:00") for _ in range(30)] for d in days}
    for d in days:
        write_jsonl_gz(landing, d, "x.jsonl.gz", shared[d] + [ev(ts=f"{d}T10:00:00+08:00") for _ in range(5)])
        write_jsonl_gz(landing, d, "y.jsonl.gz", shared[d][:10] + ["not json"])
    summary = load_video(landing, warehouse_db, "catch-up", workers=2)
    assert summary["failed_files"] == []
    assert (summary["received"], summary["loaded"], summary["duplicates"], summary["quarantined"]) == (138, 105, 30, 3)
    with psycopg.connect(warehouse_db) as conn:
        per_day = dict(conn.execute("select local_date::text, count(*) from raw_video.events group by 1"))
        parts = conn.execute("select count(*) from pg_inherits where inhparent = 'raw_video.events'::regclass")
        assert parts.fetchone()[0] == 4  # three days and the default
        assert conn.execute("select count(*) from ops.file_manifest where status = 'loaded'").fetchone()[0] == 6
    assert per_day == {d: 35 for d in days}


def test_a_file_waiting_while_its_day_is_attached_is_merged_into_the_new_partition(warehouse_db, second_db, landing):
    """A worker that found the day's load table, then waited on the day's lock while the attach
    renamed it into the partition, must see it gone (no stale catalog cache) and merge its file."""
    import threading
    import time

    from supervision.ingest.common import connect
    from supervision.ingest.video.partitions import day_lock, finish_day

    _day_files(landing)
    batches = plan_load(landing, warehouse_db, "run-1")
    paths = sorted(p for batch in batches for p in batch)
    load_video_files(landing, warehouse_db, "run-1", paths[:2], workers=1)  # a and b staged
    with connect(warehouse_db) as attacher:
        attacher.execute("select pg_advisory_xact_lock(hashtext(%s))", (day_lock(DAY1),))  # the attach begins
        out: dict = {}
        worker = threading.Thread(target=lambda: out.update(load_video_file(landing, warehouse_db, "run-1", paths[2])))
        worker.start()
        time.sleep(1.0)  # the worker has seen the load table and waits for the day's lock
        assert worker.is_alive()
        finish_day(attacher, DAY1, "run-1")  # renames and attaches it, commits
        worker.join(30)
    assert out["status"] == "loaded", out  # merged into the partition, not failed on a vanished table
    load_video(landing, second_db, "whole")
    got, want = _content(warehouse_db), _content(second_db)
    assert got[0] == want[0] and got[2] == want[2]
