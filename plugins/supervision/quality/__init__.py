"""Data quality with Great Expectations: gates on the raw layer and the record-level rule flags.

- ``run_gates(warehouse_url, run_id, day) -> GateResult``: write-audit-publish gates; raises
  ``GateFailed`` (which suite, expectation, column, observed value) when one fails.
- ``run_record_flags(warehouse_url, run_id) -> dict[rule_code, count]``: the six low-severity
  rules of RULES.md; replaces ops.gx_rule_findings.

Both store one row per validation in ops.gx_validation_results and rebuild the static Data Docs
under ``settings().gx_dir / "data_docs"``. Suites are defined in the repo's ``expectations/``.
GX is imported only when these run (it takes seconds), never at import of this package.
"""
from __future__ import annotations

from supervision.quality.flags import RULE_CODES, FlagCounts, run_record_flags
from supervision.quality.gates import GateFailed, GateResult, run_gates
from supervision.quality.thresholds import RULE_DEFAULTS, load_thresholds

__all__ = ["RULE_CODES", "RULE_DEFAULTS", "FlagCounts", "GateFailed", "GateResult", "load_thresholds",
           "run_gates", "run_record_flags"]
