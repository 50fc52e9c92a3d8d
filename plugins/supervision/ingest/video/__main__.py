"""A worker of the Python parser: ``python -m supervision.ingest.video`` reads a job (landing,
warehouse_url, run_id, paths) as JSON on stdin and writes the files' results as one JSON line."""
from supervision.ingest.video.load import worker_main

worker_main()
