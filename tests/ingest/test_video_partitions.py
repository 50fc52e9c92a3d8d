"""raw_video.events partitioned by local day: partitions made on demand, rows of the DEFAULT
partition moved, duplicates found within the day, and an older unpartitioned table still loaded."""
from __future__ import annotations

import uuid
from datetime import date

import psycopg

from supervision.ingest.video import load_video, partition_name

from .conftest import write_jsonl_gz
from .test_video import D1, D2, ev, events


def partitions(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        names = [r[0] for r in conn.execute(
            "select c.relnamespace::regnamespace || '.' || c.relname from pg_inherits i"
            " join pg_class c on c.oid = i.inhrelid where i.inhparent = 'raw_video.events'::regclass")]
        return {n: conn.execute(f"select count(*) from {n}").fetchone()[0] for n in names}


def test_one_partition_per_day_and_duplicates_within_the_day(warehouse_db, landing):
    d1 = [ev() for _ in range(5)]
    d2 = [ev(ts="2024-03-02T10:00:00+08:00") for _ in range(3)]
    write_jsonl_gz(landing, D1, "a.jsonl.gz", d1)
    write_jsonl_gz(landing, D2, "a.jsonl.gz", d2)
    write_jsonl_gz(landing, D1, "b-redelivery.jsonl.gz", d1[:2] + [ev()])
    summary = load_video(landing, warehouse_db, "run-1", workers=1)
    assert (summary["received"], summary["loaded"], summary["duplicates"]) == (11, 9, 2)
    assert partitions(warehouse_db) == {"raw_video.events_default": 0,
                                        partition_name(date(2024, 3, 1)): 6,
                                        partition_name(date(2024, 3, 2)): 3}
    with psycopg.connect(warehouse_db) as conn:
        plan = "\n".join(r[0] for r in conn.execute(
            "explain select * from raw_video.events where local_date = '2024-03-02'"))
    # event_id leads the key (uuids sort on abbreviated keys: the partition's key builds faster)
    assert primary_keys(warehouse_db) == {"raw_video.events": ["event_id", "local_date"],
                                          partition_name(date(2024, 3, 1)): ["event_id", "local_date"],
                                          partition_name(date(2024, 3, 2)): ["event_id", "local_date"],
                                          "raw_video.events_default": ["event_id", "local_date"]}
    assert "events_p20240302" in plan and "events_p20240301" not in plan  # pruning replaces the date index


def primary_keys(url: str) -> dict[str, list[str]]:
    """Primary key columns, in order, of raw_video.events and its partitions."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select c.conrelid::regclass::text, array_agg(a.attname::text order by k.ord)"
            " from pg_constraint c cross join unnest(c.conkey) with ordinality k(attnum, ord)"
            " join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum"
            " join pg_namespace n on n.oid = c.connamespace"
            " where n.nspname = 'raw_video' and c.contype = 'p' group by 1").fetchall()
    return dict(rows)


def test_a_warehouse_keyed_local_date_first_still_attaches_its_days(fresh_db, landing):
    """A warehouse bootstrapped when the key was (local_date, event_id) keeps it, and each bulk day
    gets the same key, so that it can be attached."""
    from supervision.warehouse import bootstrap, ddl_text

    ddl = ddl_text("warehouse.sql")
    assert "primary key (event_id, local_date))" in ddl
    with psycopg.connect(fresh_db) as conn:
        conn.execute("create schema raw_video")
        start = ddl.index("create table if not exists raw_video.events (")
        conn.execute(ddl[start:ddl.index(";", start)].replace("primary key (event_id, local_date))",
                                                             "primary key (local_date, event_id))"))
    bootstrap(fresh_db)
    d1 = [ev() for _ in range(4)]
    write_jsonl_gz(landing, D1, "a.jsonl.gz", d1)
    write_jsonl_gz(landing, D1, "b-redelivery.jsonl.gz", d1[:2] + [ev()])
    write_jsonl_gz(landing, D2, "a.jsonl.gz", [ev(ts="2024-03-02T10:00:00+08:00")])
    summary = load_video(landing, fresh_db, "run-1", workers=1)
    assert (summary["received"], summary["loaded"], summary["duplicates"], summary["failed_files"]) == (8, 6, 2, [])
    assert primary_keys(fresh_db) == {"raw_video.events": ["local_date", "event_id"],
                                      partition_name(date(2024, 3, 1)): ["local_date", "event_id"],
                                      partition_name(date(2024, 3, 2)): ["local_date", "event_id"],
                                      "raw_video.events_default": ["local_date", "event_id"]}
    assert partitions(fresh_db) == {"raw_video.events_default": 0, partition_name(date(2024, 3, 1)): 5,
                                    partition_name(date(2024, 3, 2)): 1}


def test_rows_of_the_default_partition_are_moved_when_the_day_gets_its_partition(warehouse_db, landing):
    known = ev()
    with psycopg.connect(warehouse_db) as conn:  # a direct writer, before any loader made the day
        conn.execute("insert into raw_video.events (event_id, camera_id, ts, type, state, local_date, file_id,"
                     " line_no) values (%s, 'CAM001', '2024-03-01T09:00:00+08:00', 'status', 'online',"
                     " '2024-03-01', 0, 1)", (known["event_id"],))
    assert partitions(warehouse_db) == {"raw_video.events_default": 1}
    write_jsonl_gz(landing, D1, "a.jsonl.gz", [known, ev()])
    summary = load_video(landing, warehouse_db, "run-1", workers=1)
    assert (summary["loaded"], summary["duplicates"]) == (1, 1)
    assert partitions(warehouse_db) == {"raw_video.events_default": 0, partition_name(date(2024, 3, 1)): 2}


def test_bootstrap_is_idempotent_with_partitions(warehouse_db, landing):
    from supervision.warehouse import bootstrap

    write_jsonl_gz(landing, D1, "a.jsonl.gz", [ev() for _ in range(3)])
    load_video(landing, warehouse_db, "run-1", workers=1)
    bootstrap(warehouse_db)
    bootstrap(warehouse_db)
    assert len(events(warehouse_db)) == 3


def test_an_older_unpartitioned_table_is_still_loaded(fresh_db, landing):
    from supervision.warehouse import bootstrap

    with psycopg.connect(fresh_db) as conn:  # raw_video.events as the first bootstrap made it
        conn.execute("create schema raw_video")
        conn.execute("""create table raw_video.events (
            event_id uuid primary key, camera_id text not null, ts timestamptz not null, type text not null,
            state text, count integer, trainee_id text, score numeric, local_date date not null,
            file_id bigint not null, line_no integer not null, _loaded_at timestamptz not null default now())""")
    bootstrap(fresh_db)
    bootstrap(fresh_db)
    with psycopg.connect(fresh_db) as conn:
        kind = conn.execute("select relkind from pg_class where oid = 'raw_video.events'::regclass").fetchone()[0]
        indexes = {r[0] for r in conn.execute("select indexname from pg_indexes where schemaname = 'raw_video'")}
    assert kind == "r" and {"events_camera_ts_idx", "events_loaded_at_idx", "events_face_camera_ts_idx", "events_local_date_idx"} <= indexes
    shared = ev()
    write_jsonl_gz(landing, D1, "a.jsonl.gz", [shared, ev()])
    write_jsonl_gz(landing, D2, "a.jsonl.gz", [shared, ev()])  # against the contract: another folder
    summary = load_video(landing, fresh_db, "run-" + uuid.uuid4().hex[:6], workers=1)
    assert (summary["received"], summary["loaded"], summary["duplicates"]) == (4, 3, 1)
