"""Rule thresholds, read from the one place that holds them: ``vars:`` of ``dbt_project/dbt_project.yml``.

The dbt project owns that file (all 22 rules' thresholds live there, see docs/ARCHITECTURE.md);
the GX suites read the keys below from it. A key the file does not (yet) have falls back to the
default of RULES.md given here, and the fallback is logged, so a missing key never goes unnoticed.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: Defaults from RULES.md for the six record-level rules: the only copy outside dbt_project.yml.
Threshold = int | float | str  # str: an ISO date

RULE_DEFAULTS: dict[str, Threshold] = {
    "face_min_score": 0.75,         # WEAK_IDENTITY: face_score below this is weak
    "age_min": 16,                  # AGE_OUT_OF_RANGE: age in whole years under this fires
    "age_max_exclusive": 65,        # AGE_OUT_OF_RANGE: age this or over fires
    "checkin_early_minutes": 30,    # ATTENDANCE_OUTSIDE_WINDOW: check_in before starts_at - this fires
    "checkout_late_minutes": 30,    # ATTENDANCE_OUTSIDE_WINDOW: check_out after ends_at + this fires
    "session_earliest_hour": 7,     # SESSION_ODD_HOURS: a start before this local hour fires
    "session_latest_hour": 22,      # SESSION_ODD_HOURS: an end after this local hour fires
    "session_max_hours": 8,         # SESSION_ODD_HOURS: longer than this fires
    "pass_mark": 60,                # SCORE_FLAG_MISMATCH: the pass mark of each score
    "score_min": 0,                 # SCORE_FLAG_MISMATCH: valid score range, inclusive
    "score_max": 100,
    "id_birth_date_min": "1900-01-01",  # INVALID_ID_NUMBER: earliest real birth date (latest: today)
}


def _check(key: str, value: object, where: object) -> Threshold:
    """A number, or for a key whose default is a date, an ISO date (as text)."""
    if isinstance(RULE_DEFAULTS.get(key), str):
        try:
            return dt.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError(f"{where}: var {key!r} must be a date YYYY-MM-DD, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where}: var {key!r} must be a number, got {value!r}")
    return value

#: Vars that are text, not thresholds: rendered as SQL string literals. ``local_timezone`` is the
#: settings' time zone (dbt gets it under the same name), filled in by the flags' renderer.
TEXT_VARS = ("local_timezone",)
_SAFE_TEXT = re.compile(r"[A-Za-z0-9_+\-/]+")

_VAR = re.compile(r"\{\{\s*var\(\s*['\"](\w+)['\"]\s*\)\s*\}\}")


def dbt_vars(dbt_project_yml: Path) -> dict[str, Any]:
    """The ``vars:`` mapping of a dbt_project.yml ({} when the file or the mapping is absent)."""
    if not dbt_project_yml.is_file():
        return {}
    import yaml

    doc = yaml.safe_load(dbt_project_yml.read_text(encoding="utf-8")) or {}
    found = doc.get("vars") or {}
    if not isinstance(found, dict):
        raise ValueError(f"{dbt_project_yml}: `vars:` is not a mapping")
    return found


def load_thresholds(dbt_project_yml: Path | None = None) -> dict[str, Threshold]:
    """The thresholds of the six record-level rules: dbt vars where present, else RULES.md defaults."""
    if dbt_project_yml is None:
        from supervision.config import settings

        dbt_project_yml = settings().dbt_project_dir / "dbt_project.yml"
    found = dbt_vars(dbt_project_yml)
    out: dict[str, Threshold] = {}
    missing = []
    for key, default in RULE_DEFAULTS.items():
        if key not in found:
            missing.append(key)
        out[key] = _check(key, found.get(key, default), dbt_project_yml)
    if missing:
        log.warning("dbt vars missing from %s, using RULES.md defaults: %s", dbt_project_yml,
                    ", ".join(f"{k}={RULE_DEFAULTS[k]}" for k in missing))
    return out


def render_vars(sql: str, values: dict[str, Threshold]) -> str:
    """Replace each ``{{ var('name') }}`` (dbt's spelling) by ``values[name]`` as an SQL literal
    (a number, ``date 'YYYY-MM-DD'`` for a date threshold, ``'text'`` for one of ``TEXT_VARS``)."""
    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in values:
            raise KeyError(f"threshold {name!r} is used in a suite but not defined (known: {sorted(values)})")
        if name in TEXT_VARS:
            text = str(values[name])
            if not _SAFE_TEXT.fullmatch(text):
                raise ValueError(f"var {name!r}: {text!r} is not a plain name")
            return f"'{text}'"
        value = _check(name, values[name], "thresholds")
        return f"date '{value}'" if isinstance(value, str) else repr(value)

    return _VAR.sub(one, sql)
