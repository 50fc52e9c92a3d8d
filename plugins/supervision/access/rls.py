"""District isolation in PostgreSQL: the review application's roles, row-level security and grants.

Model (see docs/ARCHITECTURE.md, "District isolation"):

* ``supervision_city`` (NOLOGIN): policy ``using (true)`` on the alert table and the review tables.
  The city sees every row because of a policy granted to it, not because it owns the tables.
* ``supervision_district_<code>`` (NOLOGIN, one per district of ``supervision.config.DISTRICTS``):
  policy ``using (district_code = '<code>')``.
* ``supervision_app`` (LOGIN, NOINHERIT): the review application's login. Member of all the group
  roles above but inherits none of their rights: it must ``SET LOCAL ROLE`` to the logged-in user's
  role at the start of every transaction. It has no policy of its own, so without ``SET ROLE`` the
  alert table and review tables show no rows at all.
* ``supervision_read_city`` / ``supervision_read_district_<code>`` (NOLOGIN): the same rows, read
  only (SELECT on the alert table). ``sync_roles`` grants these to the reviewer logins.

Row-level security is enabled and FORCEd on ``marts.supervision_alerts`` and the review tables with
a ``district_code``; the table owner keeps full access through an explicit policy (the pipeline's
alert upkeep runs as the owner), so FORCE never locks the pipeline out.

``install_security(url)`` is idempotent and safe to call from every process that needs it (the
app at start-up, ``supervision roles``). Roles are cluster-wide, policies per database.
"""
from __future__ import annotations

from psycopg import sql

from supervision.access.ddl import ensure_role, set_password
from supervision.access.logins import role_password
from supervision.access.names import (
    APP_ROLE,
    CITY_ROLE,
    READ_CITY_ROLE,
    district_role,
    group_roles,
    read_role,
    read_roles,
)
from supervision.config import DISTRICTS
from supervision.warehouse import one_row

ALERTS = "marts.supervision_alerts"
# review tables keyed on district_code (row-level security); review.users: null = a city user
RLS_REVIEW_TABLES = ("review.users", "review.assignments", "review.alert_events", "review.alert_links",
                     "review.risk_verdicts", "review.risk_verdict_events")
# marts the app charts, granted when present (dbt builds them concurrently)
CHARTED_MARTS = ("marts.district_target_progress", "marts.institution_scorecard",
                 "marts.evaluation_org_quality", "marts.risk_features")

# The raw-layer columns the evidence pages read. Never pii.*, never plain ID numbers or names.
EVIDENCE_COLUMNS: dict[str, tuple[str, ...]] = {
    "raw_training.occupations": ("occupation_code", "name", "category", "is_urgent"),
    "raw_training.institutions": ("institution_id", "name", "kind", "district_code",
                                  "license_valid_from", "license_valid_to"),
    "raw_training.institution_occupations": ("institution_id", "occupation_code", "approved_from",
                                             "approved_to"),
    "raw_training.sites": ("site_id", "institution_id", "district_code", "address", "registered"),
    "raw_training.cameras": ("camera_id", "site_id", "installed_on"),
    "raw_training.classes": ("class_id", "institution_id", "occupation_code", "skill_level", "programme",
                             "subsidised", "planned_hours", "start_date", "end_date", "status"),
    "raw_training.sessions": ("session_id", "class_id", "site_id", "starts_at", "ends_at", "delivery",
                              "status"),
    "raw_training.trainees": ("trainee_id", "person_key", "id_masked", "id_format_ok", "id_birth_date",
                              "id_check_ok", "birth_date"),
    "raw_training.enrollments": ("enrollment_id", "class_id", "trainee_id", "enrolled_at", "status",
                                 "completed_on"),
    "raw_training.attendance": ("attendance_id", "session_id", "trainee_id", "event", "method",
                                "device_id", "captured_at", "face_score"),
    "raw_training.subsidy_claims": ("claim_id", "enrollment_id", "trainee_id", "certificate_no",
                                    "amount_cny", "claimed_at", "status"),
    "raw_video.events": ("event_id", "camera_id", "ts", "type", "state", "count", "trainee_id", "score"),
    "raw_assessment.evaluation_orgs": ("org_id", "name", "kind", "district_code", "occupation_codes",
                                       "registered_on", "valid_to"),
    "raw_assessment.exam_sessions": ("exam_id", "org_id", "occupation_code", "skill_level", "starts_at",
                                     "ends_at", "assessor_ids", "registered"),
    "raw_assessment.exam_results": ("result_id", "exam_id", "person_key", "id_masked", "id_format_ok",
                                    "id_check_ok", "theory_score", "practical_score", "passed",
                                    "recorded_at"),
    "raw_assessment.certificates": ("certificate_no", "result_id", "person_key", "id_masked",
                                    "occupation_code", "skill_level", "issued_on", "org_id"),
}



def _exists(conn, qualified: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (qualified,)).fetchone()[0]


def _policy(conn, table: str, name: str, role: str, using: str, command: str = "all") -> None:
    """(Re)create one policy; ``using`` is a constant expression built here, never user input."""
    schema, tbl = table.split(".")
    t = sql.Identifier(schema, tbl)
    conn.execute(sql.SQL("drop policy if exists {} on {}").format(sql.Identifier(name), t))
    check = "" if command == "select" else f" with check ({using})"
    conn.execute(sql.SQL("create policy {} on {} as permissive for " + command + " to {} using ("
                         + using + ")" + check).format(sql.Identifier(name), t, sql.Identifier(role)))


def install_security(warehouse_url: str | None = None) -> None:
    """Create or update the roles, policies and grants of district isolation. Idempotent.

    Needs the review schema (``supervision.review.schema.install``), which it applies first."""
    from supervision.review.schema import install
    from supervision.warehouse import connect

    install(warehouse_url)
    I = sql.Identifier  # noqa: E741,N806
    with connect(warehouse_url) as conn:
        conn.execute("select pg_advisory_xact_lock(7400078)")
        # --- roles (cluster-wide) ------------------------------------------------------------
        for role in [*group_roles(), *read_roles()]:
            ensure_role(conn, role, "nologin")
        ensure_role(conn, APP_ROLE, "login noinherit")
        conn.execute(sql.SQL("alter role {} login noinherit").format(I(APP_ROLE)))
        set_password(conn, APP_ROLE, role_password(APP_ROLE))
        for role in group_roles():
            conn.execute(sql.SQL("grant {} to {}").format(I(role), I(APP_ROLE)))
        dbname = one_row(conn.execute("select current_database()"))[0]
        conn.execute(sql.SQL("grant connect on database {} to {}").format(I(dbname), I(APP_ROLE)))
        everyone = [*group_roles(), APP_ROLE]
        readers = read_roles()

        def grant(privs: str, obj: str, roles: list[str], kind: str = "table") -> None:
            conn.execute(sql.SQL("grant " + privs + " on " + kind + " {} to {}").format(
                I(*obj.split(".")), sql.SQL(", ").join(I(r) for r in roles)))

        def grant_schema(schema: str, roles: list[str]) -> None:
            conn.execute(sql.SQL("grant usage on schema {} to {}").format(
                I(schema), sql.SQL(", ").join(I(r) for r in roles)))

        for schema in ("marts", "review"):
            grant_schema(schema, everyone + readers)
        for schema in ("raw_training", "raw_video", "raw_assessment"):
            grant_schema(schema, group_roles())

        # --- the alert table: RLS, FORCEd; owner keeps access by an explicit policy ------------
        owner_of = {}
        for table in (ALERTS, *RLS_REVIEW_TABLES):
            schema, tbl = table.split(".")
            owner_of[table] = one_row(conn.execute(
                "select tableowner from pg_tables where schemaname = %s and tablename = %s",
                (schema, tbl)))[0]
            conn.execute(sql.SQL("alter table {} enable row level security").format(I(schema, tbl)))
            conn.execute(sql.SQL("alter table {} force row level security").format(I(schema, tbl)))
            _policy(conn, table, "review_owner_all", owner_of[table], "true")
            _policy(conn, table, "review_city", CITY_ROLE, "true")
            for code in DISTRICTS:
                # review.users: a district sees its own colleagues (to assign alerts to)
                _policy(conn, table, f"review_district_{code}", district_role(code),
                        f"district_code = '{code}'")

        _policy(conn, ALERTS, "review_read_city", READ_CITY_ROLE, "true", "select")
        for code in DISTRICTS:
            _policy(conn, ALERTS, f"review_read_district_{code}", read_role(code),
                    f"district_code = '{code}'", "select")

        conn.execute(sql.SQL("revoke all on {} from public").format(I("marts", "supervision_alerts")))
        for role in [*group_roles(), APP_ROLE]:
            conn.execute(sql.SQL("revoke all on {} from {}").format(I("marts", "supervision_alerts"), I(role)))
        # the app's own login may SELECT (and sees no row: no policy of its own); nobody but the owner
        # UPDATEs: a status changes through its audit event (review.apply_audit_event)
        grant("select", ALERTS, [*group_roles(), APP_ROLE, *readers])

        # --- review tables ------------------------------------------------------------------
        for table in (*RLS_REVIEW_TABLES, "review.login_attempts", "review.notifications", "review.link_state"):
            conn.execute(sql.SQL("revoke all on {} from public").format(I(*table.split("."))))
            for role in everyone:
                conn.execute(sql.SQL("revoke all on {} from {}").format(I(*table.split(".")), I(role)))
        grant("select", "review.users", everyone)
        # assignments and statuses follow the events (review.apply_audit_event); the events' user and
        # time are the database's (review.stamp_audit_event)
        grant("select", "review.assignments", [*group_roles(), APP_ROLE])
        grant("select, insert", "review.alert_events", group_roles())      # never update/delete
        grant("select", "review.alert_events", [APP_ROLE])
        grant("usage", "review.alert_events_event_id_seq", group_roles(), "sequence")
        grant("select", "review.alert_links", [*group_roles(), APP_ROLE])
        # risk review verdicts follow their events (review.apply_risk_verdict_event), as alert statuses do
        grant("select", "review.risk_verdicts", [*group_roles(), APP_ROLE])
        grant("select, insert", "review.risk_verdict_events", group_roles())      # never update/delete
        grant("select", "review.risk_verdict_events", [APP_ROLE])
        grant("usage", "review.risk_verdict_events_event_id_seq", group_roles(), "sequence")
        grant("select, insert, delete", "review.login_attempts", [APP_ROLE])
        grant("usage", "review.login_attempts_attempt_id_seq", [APP_ROLE], "sequence")
        for fn, roles in (("review.login_user(text)", [APP_ROLE]),
                          ("review.rehash_password(text, text, text)", [APP_ROLE]),
                          ("review.end_sessions(text, bigint)", [APP_ROLE]),
                          ("review.refresh_alert_links(text)", everyone)):
            conn.execute(sql.SQL("revoke all on function " + fn + " from public"))
            conn.execute(sql.SQL("grant execute on function " + fn + " to {}").format(
                sql.SQL(", ").join(I(r) for r in roles)))

        # --- evidence (raw columns, read only) and charted marts, where present ---------------
        for table, cols in EVIDENCE_COLUMNS.items():
            if not _exists(conn, table):
                continue
            conn.execute(sql.SQL("grant select ({}) on {} to {}").format(
                sql.SQL(", ").join(I(c) for c in cols), I(*table.split(".")),
                sql.SQL(", ").join(I(r) for r in group_roles())))
        for table in CHARTED_MARTS:
            if _exists(conn, table):
                grant("select", table, group_roles())
        conn.commit()
