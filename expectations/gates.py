"""Quality gates on what was loaded into the raw layer (write-audit-publish).

The marts of a day are built only when every gate passes (supervision.quality.run_gates raises
GateFailed otherwise and the DAG stops before dbt, so the previous marts stay).

- ``SCHEMA``: every column dbt and the rules read is present with its type (PostgreSQL udt names).
- one suite per raw table: keys unique and not null, enums, ranges, null spikes (``mostly``),
  over the whole table (small reference tables) or over the rows of the day being published
  (``day_expr``: the local date that puts a row in a day); volume of that day against the
  previous days (``VolumeCheck``); freshness (``fresh_from``: the day's video reaches late into it;
  the training platform: its latest pull ran after the day ended, whether or not anything changed).

Tolerances (``mostly``) let a few bad source values through: those are known source faults that
the rules report; a gate is for breakage (a lost column, a mapping gone wrong, a feed cut short).
"""
from __future__ import annotations

import great_expectations.expectations as gxe
from great_expectations.expectations.row_conditions import Column

from supervision.config import settings
from supervision.quality.spec import GateSuite, SchemaGate, VolumeCheck, param

SCHEMA = SchemaGate(
    name="gate_raw_schema",
    columns={
        "raw_training.occupations": "occupation_code text, name text, category text, is_urgent bool, "
                                    "updated_at timestamptz",
        "raw_training.institutions": "institution_id text, name text, credit_code text, kind text, "
                                     "district_code text, license_valid_from date, license_valid_to date, "
                                     "updated_at timestamptz",
        "raw_training.institution_occupations": "institution_id text, occupation_code text, "
                                                "approved_from date, approved_to date, updated_at timestamptz",
        "raw_training.sites": "site_id text, institution_id text, district_code text, address text, "
                              "registered bool, updated_at timestamptz",
        "raw_training.cameras": "camera_id text, site_id text, installed_on date, updated_at timestamptz",
        "raw_training.classes": "class_id text, institution_id text, occupation_code text, skill_level int2, "
                                "programme text, subsidised bool, planned_hours numeric, start_date date, "
                                "end_date date, status text, updated_at timestamptz",
        "raw_training.sessions": "session_id text, class_id text, site_id text, starts_at timestamptz, "
                                 "ends_at timestamptz, delivery text, status text, updated_at timestamptz",
        "raw_training.trainees": "trainee_id text, person_key text, id_masked text, id_format_ok bool, "
                                 "id_birth_date date, id_check_ok bool, gender text, birth_date date, "
                                 "has_phone bool, updated_at timestamptz",
        "raw_training.enrollments": "enrollment_id text, class_id text, trainee_id text, enrolled_at timestamptz, "
                                    "status text, completed_on date, updated_at timestamptz",
        "raw_training.attendance": "attendance_id int8, session_id text, trainee_id text, event text, method text, "
                                   "device_id text, captured_at timestamptz, face_score numeric, "
                                   "updated_at timestamptz",
        "raw_training.subsidy_claims": "claim_id text, enrollment_id text, trainee_id text, certificate_no text, "
                                       "amount_cny numeric, claimed_at timestamptz, status text, "
                                       "updated_at timestamptz",
        "raw_video.events": "event_id uuid, camera_id text, ts timestamptz, type text, state text, count int4, "
                            "trainee_id text, score numeric, local_date date",
        "raw_assessment.evaluation_orgs": "org_id text, name text, kind text, district_code text, "
                                          "occupation_codes _text, registered_on date, valid_to date, "
                                          "delivery_date date",
        "raw_assessment.exam_sessions": "exam_id text, org_id text, occupation_code text, skill_level int2, "
                                        "starts_at timestamptz, ends_at timestamptz, assessor_ids _text, "
                                        "registered int4, delivery_date date",
        "raw_assessment.exam_results": "result_id text, exam_id text, person_key text, id_masked text, "
                                       "id_format_ok bool, id_birth_date date, id_check_ok bool, "
                                       "theory_score numeric, practical_score numeric, passed text, "
                                       "recorded_at timestamptz, delivery_date date",
        "raw_assessment.certificates": "certificate_no text, result_id text, person_key text, id_masked text, "
                                       "occupation_code text, skill_level int2, issued_on date, org_id text, "
                                       "delivery_date date",
    },
)

# the local calendar (the settings' time zone; a plain IANA name, safe inside the literal)
LOCAL = f"at time zone '{settings().local_tz}'"
UPDATED_ON = f"(updated_at {LOCAL})::date"  # rows the source changed on the day
HELD_SESSIONS = (f"select (starts_at {LOCAL})::date as d, count(*) from raw_training.sessions"
                 f" where status = 'held' and (starts_at {LOCAL})::date = any(%s) group by 1")
# the latest pull of each training table (the loader's audit: one row per table and pull)
TRAINING_TABLES = ("occupations", "institutions", "institution_occupations", "sites", "cameras", "classes",
                   "trainees", "sessions", "enrollments", "attendance", "subsidy_claims")
TRAINING_PULLS = ("select distinct on (object) object, status, started_at, finished_at, received, loaded"
                  " from ops.load_audit where source = 'training' order by object, started_at desc")
ENUM = 0.99     # share of rows that must hold a documented enum value
NULLS = 0.95    # share of rows that must have a value where the source nearly always gives one
# scores: a missing or out-of-range score is a SCORE_FLAG_MISMATCH finding, not breakage, and a day
# may hold only a handful of results (1 of 8 is 12.5%); the gate stops a mapping gone wrong (most rows)
SCORES = 0.75


def _key(*columns: str, unique: bool = True) -> tuple[gxe.Expectation, ...]:
    """Key present and unique. ``unique=False`` for the two big day feeds: their primary keys already
    enforce it, and GX's window-function check costs seconds per million rows."""
    if not unique:
        return (gxe.ExpectColumnValuesToNotBeNull(column=columns[0], description="Key present (unique: primary key)."),)
    if len(columns) == 1:
        return (gxe.ExpectColumnValuesToNotBeNull(column=columns[0], description="Key present."),
                gxe.ExpectColumnValuesToBeUnique(column=columns[0], description="Key unique."))
    return (gxe.ExpectCompoundColumnsToBeUnique(column_list=list(columns), description="Key unique."),)


def _enum(column: str, values: list, **kw) -> gxe.Expectation:
    return gxe.ExpectColumnValuesToBeInSet(column=column, value_set=values, mostly=ENUM,
                                           description=f"{column} is one of the documented values.", **kw)


def _district(column: str = "district_code") -> gxe.Expectation:
    return gxe.ExpectColumnValuesToMatchRegex(column=column, regex=r"^31[0-9]{4}$", mostly=ENUM,
                                              description="A 6-digit Shanghai district code.")


GATE_SUITES: tuple[GateSuite, ...] = (
    # --- training platform: small reference tables, whole table ---------------------------------
    GateSuite(name="gate_raw_training__occupations", table="raw_training.occupations", scope="table",
              expectations=(*_key("occupation_code"),
                            _enum("category", ["manufacturing", "digital", "life_service", "construction",
                                               "other"]))),
    GateSuite(name="gate_raw_training__institutions", table="raw_training.institutions", scope="table",
              expectations=(*_key("institution_id"), _district(),
                            _enum("kind", ["private", "public", "enterprise", "college", "foreign"]))),
    GateSuite(name="gate_raw_training__institution_occupations", table="raw_training.institution_occupations",
              scope="table", expectations=_key("institution_id", "occupation_code", "approved_from")),
    GateSuite(name="gate_raw_training__sites", table="raw_training.sites", scope="table",
              expectations=(*_key("site_id"), _district())),
    GateSuite(name="gate_raw_training__cameras", table="raw_training.cameras", scope="table",
              expectations=_key("camera_id")),
    # --- training platform: freshness of the pull, whatever the source changed -----------------
    GateSuite(name="gate_training_pull__freshness", table="ops.load_audit", scope="day",
              batch_sql=TRAINING_PULLS,
              description="Freshness of the training platform: the latest pull of every table succeeded "
                          "and started after the day ended, so it read everything the source had changed "
                          "by then. Measured on the pull itself, not on the data: a public holiday on which "
                          "nothing changed passes (the pull ran and found nothing new), a source that was "
                          "down or a pull that has not run yet fails.",
              expectations=(
                  gxe.ExpectColumnDistinctValuesToContainSet(
                      column="object", value_set=list(TRAINING_TABLES),
                      description="Every table of the training platform has been pulled."),
                  gxe.ExpectColumnValuesToBeInSet(
                      column="status", value_set=["ok"],
                      description="The latest pull of every table succeeded."),
                  gxe.ExpectColumnMinToBeBetween(
                      column="started_at", min_value=param("day_end"),
                      description="Freshness: every table's latest pull started after the day ended."))),
    # --- training platform: rows changed on the day ---------------------------------------------
    GateSuite(name="gate_raw_training__classes", table="raw_training.classes", scope="day", day_expr=UPDATED_ON,
              expectations=(*_key("class_id"),
                            _enum("status", ["planned", "running", "finished", "cancelled"]),
                            _enum("programme", ["standard", "new_skill", "apprenticeship"]),
                            gxe.ExpectColumnValuesToBeBetween(column="skill_level", min_value=1, max_value=5,
                                                              mostly=ENUM, description="Skill level 1..5."),
                            gxe.ExpectColumnValuesToBeBetween(column="planned_hours", min_value=0,
                                                              strict_min=True, mostly=ENUM,
                                                              description="Planned hours positive."))),
    GateSuite(name="gate_raw_training__sessions", table="raw_training.sessions", scope="day", day_expr=UPDATED_ON,
              expectations=(*_key("session_id"),
                            _enum("status", ["scheduled", "held", "cancelled"]),
                            _enum("delivery", ["onsite", "online"]))),
    GateSuite(name="gate_raw_training__trainees", table="raw_training.trainees", scope="day", day_expr=UPDATED_ON,
              expectations=(*_key("trainee_id"), _enum("gender", ["M", "F"]),
                            gxe.ExpectColumnValuesToNotBeNull(column="person_key",
                                                              description="Pseudonym computed."),
                            gxe.ExpectColumnValuesToBeInSet(
                                column="id_check_ok", value_set=[True], mostly=0.9,
                                description="ID checks computed at load: at most a few fail."))),
    GateSuite(name="gate_raw_training__enrollments", table="raw_training.enrollments", scope="day",
              day_expr=UPDATED_ON,
              expectations=(*_key("enrollment_id"), _enum("status", ["active", "completed", "dropped"]))),
    GateSuite(name="gate_raw_training__attendance", table="raw_training.attendance", scope="day",
              day_expr=UPDATED_ON, volume=VolumeCheck(per="held session", per_sql=HELD_SESSIONS),
              expectations=(*_key("attendance_id", unique=False),
                            _enum("event", ["check_in", "check_out"]),
                            _enum("method", ["face", "card", "manual"]),
                            gxe.ExpectColumnValuesToNotBeNull(
                                column="face_score", mostly=NULLS, row_condition=Column("method") == "face",
                                description="A face check carries its score."),
                            gxe.ExpectColumnValuesToBeBetween(column="face_score", min_value=0, max_value=1,
                                                              mostly=ENUM, description="Face score in 0..1."),
                            gxe.ExpectTableRowCountToBeBetween(
                                min_value=param("attendance_min_rows"),
                                description="Volume: the day's rows against the previous days."))),
    GateSuite(name="gate_raw_training__subsidy_claims", table="raw_training.subsidy_claims", scope="day",
              day_expr=UPDATED_ON,
              expectations=(*_key("claim_id"), _enum("status", ["submitted", "approved", "paid", "rejected"]),
                            gxe.ExpectColumnValuesToBeBetween(column="amount_cny", min_value=0, mostly=ENUM,
                                                              description="Amount not negative."))),
    # --- video: the day's events ------------------------------------------------------------------
    GateSuite(name="gate_raw_video__events", table="raw_video.events", scope="day", day_expr="local_date",
              volume=VolumeCheck(), params={"video_fresh_hour": 18},
              description="Cameras send a heartbeat at least every 5 minutes all day: a day whose latest "
                          "event is before 18:00 local was cut short.",
              expectations=(*_key("event_id", unique=False),
                            gxe.ExpectColumnValuesToBeInSet(column="type", value_set=["status", "headcount", "face"],
                                                            description="Known event types only."),
                            gxe.ExpectColumnValuesToNotBeNull(
                                column="state", row_condition=Column("type") == "status",
                                description="A status event has a state."),
                            gxe.ExpectColumnValuesToNotBeNull(
                                column="count", row_condition=Column("type") == "headcount",
                                description="A headcount event has a count."),
                            gxe.ExpectColumnValuesToNotBeNull(
                                column="score", row_condition=Column("type") == "face",
                                description="A face event has a score."),
                            gxe.ExpectColumnMaxToBeBetween(
                                column="ts", min_value=param("events_fresh_from"),
                                description="Freshness: the day's events reach into its evening."),
                            gxe.ExpectTableRowCountToBeBetween(
                                min_value=param("events_min_rows"),
                                description="Volume: the day's events against the previous days."))),
    # --- assessment: what was delivered on the day (files may be missing: no volume check) -------
    GateSuite(name="gate_raw_assessment__evaluation_orgs", table="raw_assessment.evaluation_orgs", scope="table",
              expectations=(*_key("org_id"), _district(),
                            _enum("kind", ["社會評價組織", "用人單位", "院校", "社会评价组织",
                                            "social", "employer", "college"]))),
    GateSuite(name="gate_raw_assessment__exam_sessions", table="raw_assessment.exam_sessions", scope="day",
              day_expr="delivery_date",
              expectations=(*_key("exam_id"),
                            gxe.ExpectColumnValuesToBeBetween(column="skill_level", min_value=1, max_value=5,
                                                              mostly=ENUM, description="Skill level 1..5."),
                            gxe.ExpectColumnValuesToNotBeNull(column="starts_at", mostly=NULLS,
                                                              description="Start time parsed."),
                            gxe.ExpectColumnValuesToNotBeNull(column="ends_at", mostly=NULLS,
                                                              description="End time parsed."))),
    GateSuite(name="gate_raw_assessment__exam_results", table="raw_assessment.exam_results", scope="day",
              day_expr="delivery_date",
              expectations=(*_key("result_id"),
                            _enum("passed", ["合格", "不合格"]),
                            gxe.ExpectColumnValuesToNotBeNull(column="theory_score", mostly=SCORES,
                                                              description="Theory score parsed."),
                            gxe.ExpectColumnValuesToNotBeNull(column="practical_score", mostly=SCORES,
                                                              description="Practical score parsed."),
                            gxe.ExpectColumnValuesToNotBeNull(column="recorded_at", mostly=NULLS,
                                                              description="Recording time parsed."),
                            gxe.ExpectColumnValuesToBeBetween(column="theory_score", min_value=0, max_value=100,
                                                              mostly=SCORES, description="Theory score 0..100."),
                            gxe.ExpectColumnValuesToBeBetween(column="practical_score", min_value=0,
                                                              max_value=100, mostly=SCORES,
                                                              description="Practical score 0..100."))),
    GateSuite(name="gate_raw_assessment__certificates", table="raw_assessment.certificates", scope="day",
              day_expr="delivery_date",
              expectations=(*_key("certificate_no"),
                            gxe.ExpectColumnValuesToBeBetween(column="skill_level", min_value=1, max_value=5,
                                                              mostly=ENUM, description="Skill level 1..5."),
                            gxe.ExpectColumnValuesToNotBeNull(column="issued_on", mostly=NULLS,
                                                              description="Issue date parsed."))),
)
