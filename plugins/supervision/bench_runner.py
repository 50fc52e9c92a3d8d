"""`supervision bench`: run every benchmark in bench/ and print one table of figures.

Each benchmark is a script that prints human lines and, last, one JSON line with at least
"bench"; every figure it reports (seconds, rates, peak memory) goes into the table."""
from __future__ import annotations

import json
import subprocess
import sys
import time

from supervision.config import settings


def run_benchmarks(only: list[str] | None = None, quick: bool = False) -> int:
    bench_dir = settings().home / "bench"
    scripts = sorted(p for p in bench_dir.glob("bench_*.py"))
    if only:
        scripts = [p for p in scripts if any(o in p.stem for o in only)]
    rows, failed = [], []
    for script in scripts:
        t = time.monotonic()
        args = [sys.executable, str(script)] + (["--quick"] if quick else [])
        print(f"== {script.name}", flush=True)
        proc = subprocess.run(args, capture_output=True, text=True)
        sys.stdout.write(proc.stdout)
        if proc.returncode != 0:
            failed.append(script.name)
            sys.stderr.write(proc.stderr[-3000:])
            continue
        results = [json.loads(ln) for ln in proc.stdout.splitlines() if ln.startswith("{\"bench\"")]
        for r in results or [{"bench": script.stem}]:
            rows.append((r.pop("bench"), r, time.monotonic() - t))
    print("\n| benchmark | figures | wall s |\n|---|---|---|")
    for name, figures, wall in rows:
        fig = ", ".join(f"{k}={v}" for k, v in figures.items())
        print(f"| {name} | {fig} | {wall:.1f} |")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0
