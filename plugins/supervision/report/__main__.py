"""Write a monthly report's PDF and XLSX to a folder, from the warehouse of the settings.

    python -m supervision.report --month 2024-03 --scope 310115 --out var/reports
"""
from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from supervision.config import CITY_CODE
    from supervision.report.data import gather
    from supervision.report.pdf import render_pdf
    from supervision.report.xlsx import render_xlsx
    from supervision.warehouse import connect

    ap = argparse.ArgumentParser(prog="python -m supervision.report", description=__doc__)
    ap.add_argument("--month", required=True, help="YYYY-MM")
    ap.add_argument("--scope", default=CITY_CODE, help=f"district code, or {CITY_CODE} for the city (default)")
    ap.add_argument("--out", type=Path, default=Path("."))
    args = ap.parse_args(argv)
    month = date.fromisoformat(args.month + "-01")
    with connect() as conn:
        rep = gather(conn, args.scope, month)
    args.out.mkdir(parents=True, exist_ok=True)
    for suffix, data in ((".pdf", render_pdf(rep)), (".xlsx", render_xlsx(rep))):
        target = args.out / (rep.file_stem() + suffix)
        target.write_bytes(data)
        print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
