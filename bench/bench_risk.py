"""Benchmark: does the risk score find the gaming actors that fire no rule (docs/RISK.md)?

In a scratch SUPERVISION_VAR_DIR (its own embedded PostgreSQL, never the repo's var/) it simulates
``--days`` days from 2024-01-01 with the labelled scenarios and the gaming actors
(``supervision.simulator.scenarios.gaming``; ground truth in the labels' ``gaming.csv``), runs the
pipeline once on the last day (the initial load: every DAG, the alert upkeep, the marts), then
times one more daily run of the risk models (incremental) and reads:

- precision at k: the gaming institutions among the top k = ceil(5 % of the institutions in the
  scorecard) by risk_score of the last complete month (and k = the number of gaming institutions),
  the gaming org's rank among the orgs with exams, and how many honest institutions with active
  alerts rank above the lowest gaming one;
- the combinations: the same figures with the rule part of risk_score weighted otherwise
  (``COMBINATIONS``: the marts' min(rule_score, 5), the earlier min(rule_score, 10), and two
  alternatives), recomputed from the marts' rule_score and evidence points, the one the marts hold
  named (docs/decisions/0048);
- the ablation: the same figures with each feature family's points removed from risk_score
  (which evidence does the work), and with the rule alerts alone (the scorecard before risk);
- the cost: seconds of the risk models in the daily run vs the whole dbt build of that day.

    .venv/bin/python bench/bench_risk.py --quick            # 45 days at 0.01 of the city
    .venv/bin/python bench/bench_risk.py                    # 91 days (a quarter) at 0.02 (the demo's scale)
    .venv/bin/python bench/bench_risk.py --scale 0.2 --days 62
    .venv/bin/python bench/bench_risk.py --warehouse URL --labels DIR   # score an existing warehouse only

Entities are ranked as the risk page ranks them: risk_score, then evidence_score, then id.

Final line: JSON {"bench": "risk", ...}.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from harness import BIN, REPO, PeakMemory, emit, postmaster_in, scratch_dir

START = dt.date(2024, 1, 1)
FAMILIES = ("bunching", "regularity", "shared", "peer_deviation")
# the risk models (dbt_project/models/risk/), also read by profile_risk.py
RISK_MODELS = ("int_risk_headcount_fingerprints", "int_risk_institution_measures", "int_risk_org_measures",
               "fct_risk_features", "int_risk_org_links", "fct_risk_scores", "risk_features")
# the rule part of risk_score = rule_part(rule_score) + evidence points; the marts' first (docs/RISK.md)
COMBINATIONS: dict[str, Callable[[float], float]] = {
    "min(rule, 5)": lambda r: min(r, 5.0),
    "min(rule, 10)": lambda r: min(r, 10.0),
    "min(rule, 10) / 2": lambda r: min(r, 10.0) / 2,
    "log2(1 + rule)": lambda r: math.log2(1 + r),
}
MARTS_COMBINATION = "min(rule, 5)"


def supervision(env: dict[str, str], *args: str, log: Path) -> float:
    t = time.monotonic()
    with open(log, "ab") as out:
        rc = subprocess.run([str(BIN / "supervision"), *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                            cwd=REPO).returncode
    if rc != 0:
        raise SystemExit(f"supervision {' '.join(args)} failed (exit {rc}); log: {log}")
    return time.monotonic() - t


def gaming_truth(labels_dir: Path) -> tuple[set[str], set[str]]:
    inst, orgs = set(), set()
    with (labels_dir / "gaming.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            (inst if row["entity_type"] == "institution" else orgs).add(row["entity_id"])
    return inst, orgs


def score_tables(url: str, last_day: dt.date | None = None) -> tuple[dt.date, list[dict], list[dict]]:
    """Rows of the last month complete by ``last_day`` (default: the month before the latest one
    with sessions; the latest if it is the only one): institutions and orgs with their rule score,
    evidence points per family and alerts."""
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(url, row_factory=dict_row) as conn:
        months = [r["month"] for r in conn.execute(
            "select distinct month from marts.institution_scorecard where sessions_held > 0 order by 1")]
        if last_day is not None:
            complete = [m for m in months if (m + dt.timedelta(days=32)).replace(day=1) <= last_day + dt.timedelta(days=1)]
            month = complete[-1] if complete else months[-1]
        else:
            month = months[-2] if len(months) > 1 else months[-1]
        inst = conn.execute("""
            select s.institution_id as id, s.rule_score, s.evidence_score, s.risk_score, s.sessions_held,
                   s.alerts_high + s.alerts_medium + s.alerts_low as alerts,
                   coalesce(r.bunching_points, 0) as bunching, coalesce(r.regularity_points, 0) as regularity,
                   coalesce(r.shared_points, 0) as shared, coalesce(r.peer_deviation_points, 0) as peer_deviation
            from marts.institution_scorecard s
            left join core.fct_risk_scores r
              on r.entity_type = 'institution' and r.entity_id = s.institution_id and r.month = s.month
            where s.month = %s""", (month,)).fetchall()
        orgs = conn.execute("""
            select q.org_id as id, q.rule_score, q.evidence_score, q.risk_score, q.exams,
                   q.alerts_high + q.alerts_medium + q.alerts_low as alerts,
                   coalesce(r.bunching_points, 0) as bunching, coalesce(r.regularity_points, 0) as regularity,
                   coalesce(r.shared_points, 0) as shared, coalesce(r.peer_deviation_points, 0) as peer_deviation
            from marts.evaluation_org_quality q
            left join core.fct_risk_scores r
              on r.entity_type = 'evaluation_org' and r.entity_id = q.org_id and r.month = q.month
            where q.month = %s and q.exams > 0""", (month,)).fetchall()
    return month, inst, orgs


def ranking(rows: list[dict], drop: str | None, combination: str = MARTS_COMBINATION) -> list[dict]:
    """Rows ordered by risk_score as ``combination`` makes it, recomputed without one family (or with
    the rules only, or the evidence only: drop="rules"); ties by evidence, then id (the risk page's order)."""
    rule_part = COMBINATIONS[combination]

    def evidence(r: dict) -> float:
        return 0.0 if drop == "evidence" else sum(float(r[f]) for f in FAMILIES if f != drop)

    def score(r: dict) -> float:
        return (rule_part(float(r["rule_score"])) if drop != "rules" else 0.0) + evidence(r)
    return sorted(rows, key=lambda r: (-round(score(r), 6), -round(evidence(r), 6), r["id"]))


def marts_combination(inst: list[dict], orgs: list[dict]) -> str | None:
    """The combination whose risk_score equals the marts' on every row (None: none of them)."""
    for name, rule_part in COMBINATIONS.items():
        if all(abs(rule_part(float(r["rule_score"])) + float(r["evidence_score"]) - float(r["risk_score"])) < 0.006
               for r in (*inst, *orgs)):
            return name
    return None


def figures(inst: list[dict], orgs: list[dict], g_inst: set[str], g_orgs: set[str], drop: str | None,
            combination: str = MARTS_COMBINATION) -> dict:
    ranked = ranking(inst, drop, combination)
    k5 = max(1, math.ceil(0.05 * len(ranked)))
    kg = max(1, len(g_inst))
    top5 = [r["id"] for r in ranked[:k5]]
    topg = [r["id"] for r in ranked[:kg]]
    ranks = {r["id"]: i + 1 for i, r in enumerate(ranked)}
    gaming_ranks = sorted(ranks[g] for g in g_inst if g in ranks)
    worst = gaming_ranks[-1] if gaming_ranks else None
    honest_above = [r for r in ranked[: (worst or 1) - 1] if r["id"] not in g_inst and r["alerts"] > 0]
    o_ranked = ranking(orgs, drop, combination)
    o_ranks = {r["id"]: i + 1 for i, r in enumerate(o_ranked)}
    return {
        "k_top5pct": k5,
        "gaming_in_top5pct": sum(1 for g in top5 if g in g_inst),
        "precision_at_k_top5pct": round(sum(1 for g in top5 if g in g_inst) / k5, 3),
        "recall_at_top5pct": round(sum(1 for g in top5 if g in g_inst) / max(1, len(g_inst)), 3),
        "precision_at_k_gaming": round(sum(1 for g in topg if g in g_inst) / kg, 3),
        "gaming_ranks": gaming_ranks,
        "honest_with_alerts_above_last_gaming": len(honest_above),
        # a few alerts: below the D line by the rules alone (rule_score < 10)
        "honest_with_few_alerts_above_last_gaming": sum(1 for r in honest_above if float(r["rule_score"]) < 10),
        "gaming_org_rank": min((o_ranks[o] for o in g_orgs if o in o_ranks), default=None),
        "gaming_org_rank_by_evidence": min((i + 1 for i, r in enumerate(ranking(orgs, "rules")) if r["id"] in g_orgs),
                                           default=None),
        "orgs_ranked": len(o_ranked),
    }


def report(url: str, labels_dir: Path, last_day: dt.date | None = None) -> dict:
    g_inst, g_orgs = gaming_truth(labels_dir)
    month, inst, orgs = score_tables(url, last_day)
    out: dict = {"month": month.isoformat(), "institutions": len(inst), "orgs_with_exams": len(orgs),
                 "gaming_institutions": len(g_inst)}
    full = figures(inst, orgs, g_inst, g_orgs, None)
    print(f"month {month}: {len(inst)} institutions, {len(orgs)} orgs with exams, {len(g_inst)} gaming institutions")
    built = marts_combination(inst, orgs)
    out["marts_combination"] = built
    print(f"  the marts' risk_score = {built or 'none of these'} + evidence_score; the same rows, rule part weighted:")
    out["combinations"] = {}
    for name in COMBINATIONS:
        f = figures(inst, orgs, g_inst, g_orgs, None, name)
        label = f"{name}{' [marts]' if name == built else ''}"
        print(f"  {label:>26}: precision@top5% {f['precision_at_k_top5pct']} ({f['gaming_in_top5pct']} of "
              f"{f['k_top5pct']}), precision@k={len(g_inst)} {f['precision_at_k_gaming']}, gaming ranks "
              f"{f['gaming_ranks']}, honest with alerts above the last {f['honest_with_alerts_above_last_gaming']} "
              f"({f['honest_with_few_alerts_above_last_gaming']} with rule_score < 10), "
              f"org rank {f['gaming_org_rank']} of {f['orgs_ranked']} (by evidence {f['gaming_org_rank_by_evidence']})")
        out["combinations"][name] = {k: f[k] for k in ("precision_at_k_top5pct", "precision_at_k_gaming", "gaming_ranks",
                                                        "honest_with_alerts_above_last_gaming",
                                                        "honest_with_few_alerts_above_last_gaming", "gaming_org_rank")}
    print(f"  risk score ({MARTS_COMBINATION}): {full['gaming_in_top5pct']} of the top {full['k_top5pct']} (5%) are gaming "
          f"(precision {full['precision_at_k_top5pct']}, recall {full['recall_at_top5pct']}); precision at "
          f"k={len(g_inst)}: {full['precision_at_k_gaming']}; gaming ranks {full['gaming_ranks']}; "
          f"honest institutions with alerts above the last gaming one: {full['honest_with_alerts_above_last_gaming']}; "
          f"gaming org rank {full['gaming_org_rank']} of {full['orgs_ranked']} by risk_score, "
          f"{full['gaming_org_rank_by_evidence']} by evidence_score alone")
    out.update({k: full[k] for k in ("k_top5pct", "gaming_in_top5pct", "precision_at_k_top5pct",
                                     "recall_at_top5pct", "precision_at_k_gaming",
                                     "honest_with_alerts_above_last_gaming",
                                     "honest_with_few_alerts_above_last_gaming", "gaming_org_rank",
                                     "gaming_org_rank_by_evidence", "orgs_ranked")})
    for drop in (*FAMILIES, "evidence"):
        f = figures(inst, orgs, g_inst, g_orgs, drop)
        label = "rules alone" if drop == "evidence" else f"without {drop}"
        print(f"  {label:>26}: precision@top5% {f['precision_at_k_top5pct']}, precision@k={len(g_inst)} "
              f"{f['precision_at_k_gaming']}, gaming ranks {f['gaming_ranks']}, org rank {f['gaming_org_rank']}")
        out[f"without_{drop}_precision_at_k_gaming"] = f["precision_at_k_gaming"]
        out[f"without_{drop}_org_rank"] = f["gaming_org_rank"]
    return out


def risk_cost(env: dict[str, str], url: str, day: dt.date, log: Path, var_dir: Path) -> dict:
    """Seconds of the risk models in an incremental daily dbt run of ``day`` vs the whole build."""
    target = var_dir / "bench_risk_target"
    vars_ = json.dumps({"run_date": day.isoformat()})
    supervision(env, "dbt", "run", "--exclude", "tag:after_alerts", "--vars", vars_, "--target-path", str(target),
                log=log)
    results = json.loads((target / "run_results.json").read_text())["results"]
    per_model = {r["unique_id"].split(".")[-1]: r["execution_time"] for r in results}
    risk = sum(v for k, v in per_model.items() if k in RISK_MODELS)
    total = sum(per_model.values())
    return {"risk_models_s": round(risk, 2), "daily_dbt_models_s": round(total, 2),
            "risk_share_pct": round(100 * risk / total, 1) if total else None,
            "risk_models_each_s": {k: round(v, 2) for k, v in per_model.items() if k in RISK_MODELS}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="45 days at 0.01 of the city")
    ap.add_argument("--scale", type=float, default=0.02)
    ap.add_argument("--days", type=int, default=91, help="days simulated from 2024-01-01")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--anomaly-rate", type=float, default=0.002,
                    help="labelled rule cases per rule and day / (1,500 x scale): the honest entities' genuine alerts "
                         "(default the simulator's 0.002: a few; the demo's 0.03 gives every org dozens a month)")
    ap.add_argument("--warehouse", help="score this warehouse only (no simulation); needs --labels")
    ap.add_argument("--labels", type=Path, help="folder holding gaming.csv (with --warehouse)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = ap.parse_args()
    if args.warehouse:
        if not args.labels:
            raise SystemExit("--warehouse needs --labels")
        emit("risk", **report(args.warehouse, args.labels))
        return 0
    scale, days = (0.01, 45) if args.quick else (args.scale, args.days)
    last = START + dt.timedelta(days=days - 1)
    var_dir = scratch_dir("bench_risk_").resolve()
    env = {**os.environ, "SUPERVISION_VAR_DIR": str(var_dir)}
    for name in ("SUPERVISION_WAREHOUSE_URL", "SUPERVISION_AIRFLOW_DB_URL", "SUPERVISION_TRAINING_DB_URL",
                 "SUPERVISION_LANDING_URL"):
        env.pop(name, None)
        os.environ.pop(name, None)
    os.environ["SUPERVISION_VAR_DIR"] = str(var_dir)
    from supervision.config import settings

    log = var_dir / "bench_risk.log"
    try:
        supervision(env, "warehouse", "start", log=log)
        gen = supervision(env, "generate", "--start", START.isoformat(), "--end", (last - dt.timedelta(days=1)).isoformat(),
                          "--scale", str(scale), "--seed", str(args.seed), "--anomaly-rate", str(args.anomaly_rate),
                          log=log)
        run = supervision(env, "run", "--start", (last - dt.timedelta(days=1)).isoformat(),
                          "--end", (last - dt.timedelta(days=1)).isoformat(), "--quiet", log=log)
        supervision(env, "generate", "--start", last.isoformat(), "--end", last.isoformat(), "--scale", str(scale),
                    "--seed", str(args.seed), "--anomaly-rate", str(args.anomaly_rate), log=log)
        s = settings()
        with PeakMemory(os.getpid(), postmaster=postmaster_in(s.pgdata)) as mem:
            day_run = supervision(env, "run", "--start", last.isoformat(), "--end", last.isoformat(), "--quiet", log=log)
        print(f"simulated {days} days at scale {scale} in {gen:.0f}s; initial load {run:.0f}s; "
              f"daily run of {last} {day_run:.0f}s", flush=True)
        url = s.warehouse_url()
        figures_ = report(url, s.var_dir / "simulator", last)
        cost = risk_cost(env, url, last, log, var_dir)
        print(f"  cost: risk models {cost['risk_models_s']}s of a {cost['daily_dbt_models_s']}s daily dbt run "
              f"({cost['risk_share_pct']}%): {cost['risk_models_each_s']}")
        emit("risk", scale=scale, days=days, seconds_daily_run=round(day_run, 1), **figures_,
             **{k: v for k, v in cost.items() if k != "risk_models_each_s"}, **mem.figures())
    finally:
        subprocess.run([str(BIN / "supervision"), "warehouse", "stop"], env=env, cwd=REPO,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        if not args.keep:
            shutil.rmtree(var_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
