"""Loaders of the three upstream sources into the warehouse's raw layer (see SOURCES.md).

- :mod:`supervision.ingest.training`: the training platform database, incremental by updated_at;
- :mod:`supervision.ingest.video`: the video platform's gzip JSON Lines files;
- :mod:`supervision.ingest.assessment`: the assessment platform's CSV exports;
- :mod:`supervision.ingest.common`: COPY, quarantine, audit and file-manifest helpers.
"""
