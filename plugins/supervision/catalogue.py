"""The 22 supervision rules of RULES.md: the one catalogue every part of the platform reads.

One row per rule in ``data/rule_catalogue.csv`` (shipped inside the package), in the order of
RULES.md: code, severity, entity type(s), the engine that implements it (``dbt``: the model
``rules.rule_<code lower case>``; ``gx``: a Great Expectations suite under ``expectations/``),
labels in Chinese and English, and a one-line meaning (RULES.md is the definition).

Readers: alert upkeep (severity, entity types), the review application (labels), the record-level
GX suites (entity types), the simulator (codes) and dbt, whose seed
``dbt_project/seeds/rule_catalogue.csv`` is a byte-identical copy (``core.rule_catalogue``).
A copy and not a path: dbt accepts a seed path outside its project, but Cosmos runs dbt in a
temporary folder of symlinks to the project's top-level entries, where such a path points
nowhere and the seed would silently be missing. tests/test_catalogue.py keeps the two identical
and the catalogue equal to RULES.md.

Thresholds are not here: they are dbt vars in ``dbt_project/dbt_project.yml``.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib.resources import files
from typing import Literal, cast

Severity = Literal["high", "medium", "low"]
Engine = Literal["dbt", "gx"]

SEVERITIES: tuple[Severity, ...] = ("high", "medium", "low")
ENGINES: tuple[Engine, ...] = ("dbt", "gx")
CATALOGUE_FILE = "rule_catalogue.csv"


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    entity_types: tuple[str, ...]  # in RULES.md's order; only INVALID_ID_NUMBER has two
    engine: Engine
    label_zh: str
    label_en: str
    description: str

    @property
    def entity_type(self) -> str:
        """The rule's first (for all rules but INVALID_ID_NUMBER: only) entity type."""
        return self.entity_types[0]

    @property
    def label(self) -> str:
        return f"{self.label_zh} {self.label_en}"

    @property
    def model(self) -> str | None:
        """The dbt model implementing the rule (``rule_<code lower case>``), None for a GX rule."""
        return f"rule_{self.code.lower()}" if self.engine == "dbt" else None


def catalogue_text() -> str:
    """The catalogue file as shipped in the package."""
    return (files("supervision") / "data" / CATALOGUE_FILE).read_text(encoding="utf-8")


def _parse(text: str) -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for row in csv.DictReader(text.splitlines()):
        code = row["rule_code"]
        if row["severity"] not in SEVERITIES or row["engine"] not in ENGINES or code in rules:
            raise ValueError(f"{CATALOGUE_FILE}: bad row for {code!r}: {row}")
        rules[code] = Rule(
            code=code,
            severity=cast(Severity, row["severity"]),
            entity_types=tuple(row["entity_types"].split(";")),
            engine=cast(Engine, row["engine"]),
            label_zh=row["label_zh"],
            label_en=row["label_en"],
            description=row["description"],
        )
    return rules


#: code -> Rule, in the order of RULES.md
RULES: dict[str, Rule] = _parse(catalogue_text())
RULE_CODES: tuple[str, ...] = tuple(RULES)


def rule(code: str) -> Rule:
    """The rule of a code; KeyError for a code that is not one of RULES.md."""
    return RULES[code]


def codes(engine: Engine | None = None) -> tuple[str, ...]:
    """Rule codes in RULES.md order, all of them or those one engine implements."""
    return tuple(c for c, r in RULES.items() if engine is None or r.engine == engine)
