"""Turning GX validation results into what people read: ops.gx_validation_results rows and
one-line descriptions of a failed expectation (suite, expectation, column, observed value)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

_KW_SHOWN = ("column", "column_list", "value_set", "min_value", "max_value", "strict_min", "strict_max",
             "mostly", "regex", "column_set")


@dataclass
class ValidationOutcome:
    suite: str
    asset: str
    kind: str                          # 'gate' | 'flags'
    success: bool
    evaluated: int
    failed: int
    expectations: list[dict[str, Any]]
    extra: dict[str, Any] = field(default_factory=dict)
    docs_url: str | None = None

    def summary(self) -> dict[str, Any]:
        return {**self.extra, "expectations": self.expectations}


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _condition(kwargs: dict[str, Any]) -> str | None:
    cond = kwargs.get("row_condition")
    if not cond:
        return None
    if isinstance(cond, dict) and cond.get("type") == "comparison":
        return f"{cond['column']['name']} {cond['operator']} {cond['parameter']!r}"
    return str(cond)


def exception_message(info: Any) -> str | None:
    """The message of an exception GX caught while evaluating an expectation, if any (GX keeps it
    either flat or keyed by the metric that raised it)."""
    if not isinstance(info, dict) or not info:
        return None
    if "raised_exception" in info:
        return str(info.get("exception_message"))[:500] if info.get("raised_exception") else None
    for value in info.values():
        if isinstance(value, dict) and value.get("exception_message"):
            return str(value["exception_message"])[:500]
    return None


def expectation_record(result: Any) -> dict[str, Any]:
    """A compact, JSON-safe record of one ExpectationValidationResult."""
    config = result.expectation_config
    kwargs = config.kwargs
    res = result.result or {}
    rec: dict[str, Any] = {
        "type": config.type,
        "success": bool(result.success),
        "kwargs": {k: (f"{len(kwargs[k])} values" if isinstance(kwargs[k], list) and len(kwargs[k]) > 30
                       else kwargs[k]) for k in _KW_SHOWN if kwargs.get(k) is not None},
    }
    cond = _condition(kwargs)
    if cond:
        rec["where"] = cond
    if config.description:
        rec["description"] = config.description
    if config.meta:
        rec["meta"] = config.meta
    for key in ("observed_value", "element_count", "unexpected_count", "unexpected_percent",
                "partial_unexpected_list", "partial_unexpected_index_list", "missing_count",
                "partial_missing_list"):
        if key in res:
            rec[key] = res[key]
    exception = exception_message(result.exception_info)
    if exception:
        rec["exception"] = exception
    if isinstance(rec.get("partial_unexpected_list"), list):
        rec["partial_unexpected_list"] = rec["partial_unexpected_list"][:10]
    if isinstance(rec.get("partial_unexpected_index_list"), list):
        rec["partial_unexpected_index_list"] = rec["partial_unexpected_index_list"][:10]
    return json.loads(json.dumps(rec, default=str, ensure_ascii=False))


def describe_failure(rec: dict[str, Any]) -> str:
    """``expect_x(column=c, where ..., mostly=m)``: what was observed, in words."""
    args = ", ".join(f"{k}={_short(v, 60)}" for k, v in rec.get("kwargs", {}).items()
                     if k not in ("value_set", "column_set") or len(json.dumps(v, default=str)) < 60)
    head = f"{rec['type']}({args}" + (f", where {rec['where']}" if rec.get("where") else "") + ")"
    if rec.get("exception"):
        body = f"could not be evaluated: {rec['exception']}"
    elif rec.get("partial_missing_list"):
        shown = rec["partial_missing_list"]
        body = f"missing or of another type: {', '.join(map(str, shown))}"
        if int(rec.get("missing_count") or 0) > len(shown):
            body += f" (and {int(rec['missing_count']) - len(shown)} more)"
    elif "unexpected_count" in rec:
        body = (f"{rec['unexpected_count']} of {rec.get('element_count')} rows unexpected "
                f"({float(rec.get('unexpected_percent') or 0):.1f}%)")
        if rec.get("partial_unexpected_list"):
            body += f"; sample values {_short(rec['partial_unexpected_list'][:5], 120)}"
    elif "observed_value" in rec:
        body = f"observed {_short(rec['observed_value'])}"
    else:
        body = "failed"
    if rec.get("description"):
        body += f"  [{rec['description']}]"
    return f"{head}: {body}"


def store_outcomes(conn: Any, run_id: str | None, outcomes: list[ValidationOutcome]) -> None:
    """One row per validation in ops.gx_validation_results (the queryable history per suite)."""
    with conn.cursor() as cur:
        cur.executemany(
            "insert into ops.gx_validation_results"
            " (run_id, suite, asset, kind, success, evaluated, failed, summary, data_docs_path)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s)",
            [(run_id, o.suite, o.asset, o.kind, o.success, o.evaluated, o.failed,
              json.dumps(o.summary(), default=str, ensure_ascii=False), o.docs_url) for o in outcomes],
        )


def outcome_from_result(suite: str, asset: str, kind: str, result: Any) -> ValidationOutcome:
    records = [expectation_record(r) for r in result.results]
    stats = result.statistics or {}
    return ValidationOutcome(
        suite=suite, asset=asset, kind=kind, success=bool(result.success),
        evaluated=int(stats.get("evaluated_expectations", len(records))),
        failed=int(stats.get("unsuccessful_expectations", sum(not r["success"] for r in records))),
        expectations=records,
    )
