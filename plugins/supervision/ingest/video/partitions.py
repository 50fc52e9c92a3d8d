"""The partitions of ``raw_video.events`` and the attach of a bulk-loaded day.

``raw_video.events`` is partitioned by ``local_date``, one partition per day (see warehouse.sql).
A day that has no partition yet is loaded in bulk into an unattached table
``raw_video.events_load_pYYYYMMDD`` (no indexes); :func:`finish_load` then removes its duplicates
(the first delivery wins: file path order, then line), builds the primary key and the
indexes of warehouse.sql once, and attaches it as the day's partition (no scan: a CHECK constraint
proves the bound). Locks: a bulk worker holds the day's advisory lock shared, the attach
exclusively; the partitions' lock serialises an attach with a loader making a partition.
"""
from __future__ import annotations

import logging
import time
from datetime import date, datetime, timedelta
from typing import Any

import supervision.ingest.video.native as native
from supervision.ingest.common import Counts, connect, cpu_count, finish_file, write_audit
from supervision.ingest.video.parse import SOURCE

log = logging.getLogger(__name__)

PARENT = "raw_video.events"
DEFAULT_PARTITION = "raw_video.events_default"
_PARTITION_LOCK = "video:partitions"


def partition_name(day: date) -> str:
    return f"raw_video.events_p{day:%Y%m%d}"


def load_table_name(day: date) -> str:
    """The unattached table a bulk day is COPYed into before it becomes the day's partition."""
    return f"raw_video.events_load_p{day:%Y%m%d}"


def day_lock(day: date) -> str:
    return f"video:day:{day.isoformat()}"


def table_exists(conn: Any, name: str) -> bool:
    """Whether the table ``schema.name`` exists, as committed when this statement starts.

    A query of pg_class, not to_regclass: that reads the session's catalog cache, which in a
    transaction begun before another one renamed the table (an attach, while this one waited on
    the day's lock) can still name the old table."""
    schema, rel = name.split(".", 1)
    return conn.execute("select exists (select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                        " where n.nspname = %s and c.relname = %s)", (schema, rel)).fetchone()[0]


def _is_partitioned(conn: Any) -> bool:
    return conn.execute("select relkind from pg_class where oid = %s::regclass", (PARENT,)).fetchone()[0] == "p"


def target_for(conn: Any, day: date) -> str:
    """The table a merged file of ``day`` is inserted into: the day's partition, made if missing.

    Runs in its own short transaction (committed before the file's load starts), so the parent's
    lock taken by CREATE ... PARTITION OF is held for milliseconds, never across a file's load.
    Falls back to the parent table (which routes the rows) when the table is not partitioned (an
    older warehouse) or when this role may not create tables (e.g. a loader role without DDL).
    Not cached across files: one catalogue lookup per file, and a dropped partition is remade."""
    import psycopg

    target = partition_name(day)
    try:
        if not _is_partitioned(conn):
            target = PARENT
        elif not table_exists(conn, target):
            conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (_PARTITION_LOCK,))
            if not table_exists(conn, target):
                _create_partition(conn, day, target)
        conn.commit()
    except psycopg.errors.InsufficientPrivilege:
        conn.rollback()
        log.warning("no right to create %s: loading through %s (its default partition)", target, PARENT)
        target = PARENT
    return target


def _create_partition(conn: Any, day: date, target: str) -> None:
    """Make the day's partition; rows of that day already in the DEFAULT partition (which would
    make the CREATE fail) are moved into it in the same transaction."""
    bounds = f"for values from ('{day.isoformat()}') to ('{(day + timedelta(days=1)).isoformat()}')"
    moved = _default_has_day(conn, day)
    if moved:
        conn.execute(f"create temp table _video_moving on commit drop as"
                     f" with m as (delete from {DEFAULT_PARTITION} where local_date = %s returning *)"
                     f" select * from m", (day,))
    conn.execute(f"create table if not exists {target} partition of {PARENT} {bounds}")
    if moved:
        conn.execute(f"insert into {target} select * from _video_moving")
        conn.execute("drop table _video_moving")
    log.info("created partition %s%s", target, " (rows moved from the default partition)" if moved else "")


def _default_has_day(conn: Any, day: date) -> bool:
    return table_exists(conn, DEFAULT_PARTITION) and conn.execute(
        f"select exists (select 1 from {DEFAULT_PARTITION} where local_date = %s)", (day,)).fetchone()[0]


def prepare_bulk_day(conn: Any, day: date) -> bool:
    """Make ``day``'s load table when the day can be loaded in bulk: the table is partitioned, the
    day has no partition and no rows in the default partition, and this role may create tables.
    Commits. True when the day's load table exists afterwards."""
    import psycopg

    table = load_table_name(day)
    try:
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (day_lock(day),))
        if table_exists(conn, table):
            conn.commit()
            return True
        if not _is_partitioned(conn) or table_exists(conn, partition_name(day)) or _default_has_day(conn, day):
            conn.rollback()
            return False
        # the day's partition-to-be: no index (built once by finish_load), a CHECK constraint that
        # proves the partition bound (ATTACH then skips its validation scan)
        conn.execute(f"create table {table} (like {PARENT} including defaults including constraints)")
        conn.execute(f"alter table {table} alter column local_date set default '{day.isoformat()}'")
        conn.execute(f"alter table {table} add constraint events_load_bounds check (local_date = '{day.isoformat()}')")
        conn.commit()
        return True
    except psycopg.errors.InsufficientPrivilege:
        conn.rollback()
        log.warning("no right to create %s: %s is loaded file by file", table, day)
        return False


def _key_columns(conn: Any) -> str:
    """The parent's primary key columns, in order: a partition's key must match the parent's to be
    attached without a second index build ((event_id, local_date) as warehouse.sql declares it;
    (local_date, event_id) in a warehouse whose key has the other order)."""
    return conn.execute(
        "select string_agg(quote_ident(a.attname), ', ' order by k.ord)"
        " from pg_constraint c cross join unnest(c.conkey) with ordinality k(attnum, ord)"
        " join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum"
        " where c.conrelid = %s::regclass and c.contype = 'p'", (PARENT,)).fetchone()[0]


def _load_tables(conn: Any) -> list[date]:
    """Days that have a load table (bulk loads staged and not attached yet)."""
    rows = conn.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'raw_video' and c.relkind = 'r' and c.relname ~ '^events_load_p[0-9]{8}$'"
        " order by 1").fetchall()
    return [datetime.strptime(r[0][-8:], "%Y%m%d").date() for r in rows]



def _staged_ids(conn: Any, table: str) -> bytes:
    """The event ids (16 bytes each) of the day's staged files (_video_files): as their loaders
    stored them, or, when a file has none stored (the Python parser, or a file staged by an older
    loader), aggregated from the load table (a scan of the day's rows)."""
    missing = conn.execute("select count(*) from _video_files f where not exists"
                           " (select 1 from ops.video_staged_ids s where s.file_id = f.file_id)").fetchone()[0]
    if missing:  # one bytea per file: a value is at most 1 GB
        query = f"select string_agg(uuid_send(event_id), ''::bytea) from {table} group by file_id"
    else:
        query = ("select s.event_ids from ops.video_staged_ids s join _video_files f using (file_id)"
                 " order by s.file_id, s.part")
    return b"".join(r[0] for r in conn.execute(query, binary=True) if r[0])




# --- attaching a bulk day ---------------------------------------------------------------------

def repeated_ids(ids: bytes) -> bytes:
    """The 16-byte ids that occur more than once in ``ids``, each once (native: one sort; else a
    Python set)."""
    parser = native.NATIVE
    if parser is not None:
        return parser.repeated(ids)
    seen: set[bytes] = set()
    repeated: set[bytes] = set()
    for i in range(0, len(ids), 16):
        k = ids[i:i + 16]
        (repeated if k in seen else seen).add(k)
    return b"".join(sorted(repeated))


def finish_day(conn: Any, day: date, run_id: str | None, parallel_builds: bool = True) -> dict[str, Any]:
    """Attach ``day``'s load table as its partition, in one transaction: duplicates out (first
    delivery wins: file path order, then line), indexes built once, manifest and audit rows.
    ``parallel_builds``: the server may build the indexes with parallel workers (off when other
    days are attached at the same time: then the cores are busy anyway, and a parallel sort
    costs more CPU in all; measured 0.15 s less for 3 days on 2 cores)."""
    table = load_table_name(day)
    steps: dict[str, float] = {}
    clock = [time.perf_counter()]

    def lap(name: str) -> None:  # seconds of each step, logged and returned (bench_ingest prints them)
        now = time.perf_counter()
        steps[name] = round(steps.get(name, 0.0) + now - clock[0], 3)
        clock[0] = now

    conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (day_lock(day),))
    if not table_exists(conn, table):
        conn.rollback()
        return {"day": day.isoformat(), "files": 0, "duplicates": 0}
    lap("lock")
    conn.execute(f"lock table {table} in access exclusive mode")
    conn.execute("create temp table _video_files on commit drop as"
                 " select file_id, path, rank() over (order by path) as delivery,"
                 "        run_id, loaded_at, received, loaded, quarantined, skipped, message"
                 " from ops.file_manifest where source = %s and local_date = %s and status = 'staged'",
                 (SOURCE, day))
    conn.execute("alter table _video_files add primary key (file_id)")
    conn.execute("analyze _video_files")
    conn.execute("set local work_mem = '256MB'")
    conn.execute("set local maintenance_work_mem = '1GB'")
    if not parallel_builds:
        conn.execute("set local max_parallel_maintenance_workers = 0")
    lap("files")
    partition = partition_name(day)
    if table_exists(conn, partition):
        # some other writer made the day's partition meanwhile: merge into it, like a late file
        conn.execute(
            f"create temp table _video_dups on commit drop as"
            f" with staged as (select file_id, count(*) as n from {table} group by file_id),"
            f" ins as (insert into {partition} select l.* from {table} l join _video_files f using (file_id)"
            f"         order by l.event_id, f.delivery, l.line_no on conflict do nothing returning file_id),"
            f" kept as (select file_id, count(*) as n from ins group by file_id)"
            f" select staged.file_id, staged.n - coalesce(kept.n, 0) as dups"
            f" from staged left join kept using (file_id)")
        conn.execute(f"drop table {table}")
        lap("merge")
    else:
        # event ids delivered more than once: all but the first delivery go. The repeated ids are
        # found here from the day's ids, which the loaders stored (measured: a fraction of the
        # server's hash aggregate over the day's rows, 0.55 s per 750 k events)
        ids = _staged_ids(conn, table)
        repeated = repeated_ids(ids)
        del ids
        lap("repeated_ids")
        conn.execute("create temp table _video_dup_ids (event_id uuid primary key) on commit drop")
        conn.execute("insert into _video_dup_ids select encode(substring(%(b)s from 16 * i + 1 for 16), 'hex')::uuid"
                     " from generate_series(0, %(n)s - 1) i", {"b": repeated, "n": len(repeated) // 16})
        conn.execute("analyze _video_dup_ids")
        conn.execute(
            f"create temp table _video_dups on commit drop as"
            # (materialized: the day's rows meet the few repeated ids first; the load table has no
            # statistics, and the planner otherwise joins every row to its file before the ids)
            f" with repeats as materialized (select l.ctid as row_ctid, l.event_id, l.file_id, l.line_no"
            f"                              from {table} l join _video_dup_ids using (event_id)),"
            f" ranked as (select r.row_ctid, row_number() over ("
            f"              partition by r.event_id order by f.delivery, r.line_no) as nth"
            f"            from repeats r join _video_files f using (file_id)),"
            f" gone as (delete from {table} l using ranked"
            f"          where ranked.nth > 1 and l.ctid = ranked.row_ctid returning l.file_id)"
            f" select file_id, count(*) as dups from gone group by file_id")
        lap("dedup")
        short = table.split(".", 1)[1]
        conn.execute(f"alter table {table} add constraint {short}_pkey primary key ({_key_columns(conn)})")
        lap("primary_key")
        conn.execute(f"create index {short}_camera_id_ts_idx on {table} (camera_id, ts)")
        lap("camera_index")
        conn.execute(f"create index {short}_loaded_at_idx on {table} (_loaded_at)")
        conn.execute(f"create index {short}_face_camera_id_ts_idx on {table} (camera_id, ts) where type = 'face'")
        lap("loaded_at_face_indexes")
        # the heavy part above holds only the day's lock (days are attached in parallel); the
        # partitions' lock serialises the attach with a loader making a partition
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (_PARTITION_LOCK,))
        if table_exists(conn, partition):  # made meanwhile: the next finish_load merges into it
            conn.rollback()
            log.warning("video %s: partition %s appeared while attaching; left staged", day, partition)
            return {"day": day.isoformat(), "files": 0, "duplicates": 0, "staged": True}
        conn.execute(f"alter table {table} alter column local_date drop default")
        conn.execute(f"alter table {table} rename to {partition.split('.', 1)[1]}")
        bounds = f"for values from ('{day.isoformat()}') to ('{(day + timedelta(days=1)).isoformat()}')"
        conn.execute(f"alter table {PARENT} attach partition {partition} {bounds}")
        conn.execute(f"alter table {partition} drop constraint events_load_bounds")
        lap("attach")
    conn.execute("delete from ops.video_staged_ids where file_id in (select file_id from _video_files)")
    # the staged files: final counts, status and audit rows
    files = conn.execute(
        "select f.file_id, f.path, f.run_id, f.loaded_at, f.received, f.loaded - coalesce(d.dups, 0),"
        "       coalesce(d.dups, 0), f.quarantined, f.skipped, f.message"
        " from _video_files f left join _video_dups d using (file_id) order by f.delivery").fetchall()
    total_dups = 0
    for file_id, path, file_run, staged_at, received, loaded, dups, quarantined, skipped, message in files:
        counts = Counts(received=received, loaded=loaded, duplicates=dups, quarantined=quarantined,
                        skipped=skipped or 0)
        finish_file(conn, file_id, counts, "loaded", message)
        write_audit(conn, run_id=file_run or run_id, source=SOURCE, obj=path, started_at=staged_at,
                    counts=counts, status="ok", message=message)
        total_dups += dups
    conn.commit()
    lap("audit_commit")
    log.info("video %s: %d files attached as %s, %d duplicates; seconds %s", day, len(files), partition,
             total_dups, steps)
    return {"day": day.isoformat(), "files": len(files), "duplicates": total_dups, "seconds": steps}


def finish_load(warehouse_url: str, run_id: str | None = None, workers: int | None = None) -> list[dict[str, Any]]:
    """Attach every staged bulk day (those of this run and any an interrupted run left); several
    days (a catch-up, an initial load) on ``workers`` connections at once (default: one per core,
    at most 2)."""
    from concurrent.futures import ThreadPoolExecutor

    with connect(warehouse_url) as conn:
        days = _load_tables(conn)
    workers = max(1, min(workers or min(cpu_count(), 2), len(days) or 1))

    def finish(day: date) -> dict[str, Any]:
        with connect(warehouse_url) as conn:
            return finish_day(conn, day, run_id, parallel_builds=workers == 1)

    if workers == 1:
        return [finish(day) for day in days]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(finish, days))


__all__ = ["DEFAULT_PARTITION", "PARENT", "day_lock", "finish_day", "finish_load", "load_table_name", "partition_name",
           "prepare_bulk_day", "repeated_ids", "table_exists", "target_for"]
