"""Shanghai's 16 districts by code, with their names in Simplified Chinese and in English.

One row per district in ``data/districts.csv`` (shipped inside the package); dbt's seed
``dbt_project/seeds/districts.csv`` is a byte-identical copy, for the same reason as the rule
catalogue's (``supervision.catalogue``). The review application shows these names, the simulator
writes them into addresses.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

DISTRICTS_FILE = "districts.csv"


@dataclass(frozen=True)
class District:
    code: str
    name_zh: str   # Simplified, with its 区 (浦东新区, 黄浦区)
    name_en: str   # without "District" (Huangpu, Pudong New Area)


def districts_text() -> str:
    return (files("supervision") / "data" / DISTRICTS_FILE).read_text(encoding="utf-8")


@cache
def districts() -> dict[str, District]:
    """code -> District, in the file's (code) order."""
    rows = csv.DictReader(io.StringIO(districts_text()))
    return {r["district_code"]: District(r["district_code"], r["district_name"], r["district_name_en"])
            for r in rows}
