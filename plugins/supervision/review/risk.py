"""The risk page's figures (docs/RISK.md): institutions and evaluation orgs of the latest month,
highest risk_score first, each with the features that raised its evidence score and the records
behind them. Reads the scorecards and ``marts.risk_features`` (dbt); a notice while one is absent
or not readable by the review roles."""
from __future__ import annotations

import logging

import psycopg

from supervision.review.i18n import N_, gettext

log = logging.getLogger(__name__)

TOP = 20
# message ids of the feature families (translated where shown)
FAMILIES = {"bunching": N_("Bunching at a line"), "regularity": N_("Implausible regularity"),
            "shared": N_("Shared people and places"), "peer_deviation": N_("Peer deviation")}


def build_risk(pool, user, district: str | None) -> dict:
    """Top institutions and orgs by risk_score in the latest month, with their raised features.
    A district user sees its district only; a city user all, or one ``district``."""
    district = user.district_code or district
    out: dict = {"month": None, "institutions": [], "orgs": [], "features": {}, "notice": None}
    with pool.as_user(user.district_code) as conn:
        try:
            with conn.transaction():
                month = conn.execute("select max(month) as m from marts.institution_scorecard where sessions_held > 0"
                                     ).fetchone()["m"]
                if month is None:
                    out["notice"] = gettext("No scorecard yet (it appears after the first marts run).")
                    return out
                out["month"] = month
                where, params = "month = %s", [month]
                if district:
                    where += " and district_code = %s"
                    params.append(district)
                out["institutions"] = conn.execute(
                    f"select institution_id as entity_id, district_code, rule_score, evidence_score, risk_score, grade,"
                    f" sessions_held as volume, alerts_high + alerts_medium + alerts_low as alerts"
                    f" from marts.institution_scorecard where {where}"
                    f" order by risk_score desc, evidence_score desc, institution_id limit {TOP}", params).fetchall()
                out["orgs"] = conn.execute(
                    f"select org_id as entity_id, district_code, rule_score, evidence_score, risk_score, grade,"
                    f" exams as volume, alerts_high + alerts_medium + alerts_low as alerts"
                    f" from marts.evaluation_org_quality where {where}"
                    f" order by risk_score desc, evidence_score desc, org_id limit {TOP}", params).fetchall()
        except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn,
                psycopg.errors.InsufficientPrivilege) as e:
            log.info("risk page: scorecards not readable: %s", e)
            out["notice"] = gettext("The scorecards are not built or not readable yet.")
            return out
        ids = [r["entity_id"] for r in out["institutions"] + out["orgs"] if r["evidence_score"]]
        if not ids:
            return out
        try:
            with conn.transaction():
                rows = conn.execute(
                    "select entity_type, entity_id, feature_code, family, robust_z, points, value, peer_median,"
                    " peer_group, record_type, evidence_records from marts.risk_features"
                    " where month = %s and points > 0 and entity_id = any(%s)"
                    " order by points desc, feature_code", (out["month"], ids)).fetchall()
        except (psycopg.errors.UndefinedTable, psycopg.errors.InsufficientPrivilege) as e:
            log.info("risk page: risk_features not readable: %s", e)
            out["notice"] = gettext("The features mart (marts.risk_features) is not built or not readable yet.")
            return out
        for r in rows:
            out["features"].setdefault((r["entity_type"], r["entity_id"]), []).append(r)
    return out
