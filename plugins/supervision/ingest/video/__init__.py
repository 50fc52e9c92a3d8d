"""Video monitoring platform: ``<landing>/video/date=YYYY-MM-DD/*.jsonl.gz`` into ``raw_video.events``.

``raw_video.events`` is partitioned by ``local_date``, one partition per day (see warehouse.sql).
Events are deduplicated on (event_id, local_date): the contract puts every delivery of an event in
the same ``date=`` folder, so a file's load touches one day's rows only and costs the same whatever
the history holds. Every file is loaded once (``ops.file_manifest``, by landing-relative path, with
size and SHA-256); a file that cannot be read is recorded and never stops the others.

A load has three steps (``load_video`` runs them; the DAG runs them as tasks):

1. ``plan_load``: lists the pending files (late files in old folders included). A day that has no
   partition yet (the normal case: today's files) is loaded in **bulk**: an unattached table
   ``raw_video.events_load_pYYYYMMDD`` is made for it, without indexes. Leftovers of an interrupted
   load (such a table still there) are finished first.
2. ``load_video_files`` (one worker per core: threads with the native parser, processes with the
   Python one): each file in one transaction. A bulk day's file is COPYed straight into the day's
   load table (manifest status ``staged``), its event ids into ``ops.video_staged_ids``. A file of a day that
   already has its partition (a late file, a re-delivery) is merged into it: binary COPY into a
   temporary table, then ``INSERT ... ON CONFLICT DO NOTHING`` (first delivery wins).
3. ``finish_load``: per bulk day, in one transaction: duplicates removed (the first delivery wins:
   file path order, then line; the repeated ids found from the stored ids), the primary key and the (camera_id, ts) index built once (instead
   of row by row), the table attached as the day's partition (no scan: a CHECK constraint proves
   the bound), manifest rows set ``loaded`` with their duplicate counts, one audit row per file.
   Until then the day's rows are invisible to readers (write, then publish).

Measured (bench/bench_ingest.py): keeping two indexes up to date row by row while merging a
staged copy cost ~9.5 us per event, 5x the rest of the load; the bulk path removes it.

A crash leaves either a file pending (its transaction rolled back) or a load table with staged
files, which the next ``plan_load`` attaches; a rerun changes nothing. Locks: a bulk worker holds
the day's advisory lock shared, ``finish_load`` exclusively, so a file is never COPYed into a
table being attached. If some other writer made the day's partition meanwhile (a direct call of
``load_video_file``), ``finish_load`` merges the load table into it instead. Readers (dbt, GX, the
review app) use the parent table only.

Modules: :mod:`.parse` (gzip JSON Lines to rows, the reasons a line is quarantined),
:mod:`.native` (the Rust fast path through ctypes), :mod:`.copy` (binary COPY rows),
:mod:`.partitions` (partitions, load tables, the attach), :mod:`.load` (a file, the workers, the
entry points). Everything callers use is imported here.
"""
from __future__ import annotations

from supervision.ingest.common import list_landing_files
from supervision.ingest.video import native
from supervision.ingest.video.copy import ROW_COLUMNS, ROW_TYPES
from supervision.ingest.video.load import (
    batches_for_mapping,
    list_pending_files,
    load_video,
    load_video_file,
    load_video_files,
    plan_load,
    summarise,
)
from supervision.ingest.video.native import LIBRARY_NAME, is_loaded, library_path
from supervision.ingest.video.parse import SOURCE, SUFFIX
from supervision.ingest.video.partitions import (
    DEFAULT_PARTITION,
    PARENT,
    finish_load,
    load_table_name,
    partition_name,
)

__all__ = ["DEFAULT_PARTITION", "LIBRARY_NAME", "PARENT", "ROW_COLUMNS", "ROW_TYPES", "SOURCE", "SUFFIX",
           "batches_for_mapping", "finish_load", "is_loaded", "library_path", "list_landing_files",
           "list_pending_files", "load_table_name", "load_video", "load_video_file", "load_video_files", "native",
           "partition_name", "plan_load", "summarise"]
