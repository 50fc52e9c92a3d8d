"""Record-level anomaly flags: the six low-severity rules of RULES.md, as GX suites.

Each FlagSuite pairs a population (an SQL query asset in ``flags/``) with the rule as one SQL
predicate (``unexpected_where``). GX runs ``select * from {batch} where <unexpected_where>`` as an
UnexpectedRowsExpectation (counted in PostgreSQL); the findings in ops.gx_rule_findings are
inserted from exactly that query. Thresholds are dbt vars (``{{ var('...') }}`` in SQL,
``param('...')`` in built-in expectations), read from dbt_project/dbt_project.yml.

The ``breakdown`` expectations restate each condition of a rule with built-in GX expectations, so
that Data Docs show, per condition, how many rows miss it and which keys: they are informational.
Change a rule here and in its SQL file together; tests/quality pins every boundary of RULES.md.

``changed_sql`` lists, for incremental runs, the records whose inputs were loaded since the last
run (``flags/*.changed.sql``): every table the population joins must appear there, or a change to
it would go unnoticed until the next full run. tests/quality/test_incremental_flags.py checks
that incremental runs over several loads end with exactly the findings of one full run.
"""
from __future__ import annotations

from typing import TypedDict

import great_expectations.expectations as gxe
from great_expectations.expectations.row_conditions import Column

from supervision.catalogue import rule
from supervision.quality.spec import FlagSuite, param


class _About(TypedDict):
    rule_code: str
    entity_type: str


def _about(code: str, entity_type: str | None = None) -> _About:
    """A suite's rule_code and entity_type, from the rule catalogue: the rule's entity type, or, for
    a rule of two (INVALID_ID_NUMBER), the one this suite checks."""
    r = rule(code)
    if r.engine != "gx":
        raise ValueError(f"{code} is a dbt rule, not a Great Expectations one")
    if entity_type is None:
        (entity_type,) = r.entity_types
    elif entity_type not in r.entity_types:
        raise ValueError(f"{code} is not about {entity_type!r} (catalogue: {r.entity_types})")
    return {"rule_code": code, "entity_type": entity_type}


FLAG_SUITES: tuple[FlagSuite, ...] = (
    FlagSuite(
        name="flags_weak_identity",
        **_about("WEAK_IDENTITY"),
        asset_sql="weak_identity.sql",
        changed_sql="_attendance.changed.sql",
        key_column="attendance_id",
        key_table="raw_training.attendance",
        unexpected_where="method <> 'face' or face_score is null or face_score < {{ var('face_min_score') }}",
        description="An attendance row of a subsidised class's session whose method is not face, "
                    "or whose face_score is missing or below face_min_score.",
        breakdown=(
            gxe.ExpectColumnValuesToBeInSet(
                column="method", value_set=["face"], description="Attendance is taken by face recognition."),
            gxe.ExpectColumnValuesToNotBeNull(
                column="face_score", row_condition=Column("method") == "face",
                description="A face check-in carries its match score."),
            gxe.ExpectColumnValuesToBeBetween(
                column="face_score", min_value=param("face_min_score"),
                row_condition=Column("method") == "face",
                description="The face match score reaches face_min_score."),
        ),
    ),
    FlagSuite(
        name="flags_invalid_id_number__trainees",
        **_about("INVALID_ID_NUMBER", "trainee"),
        asset_sql="invalid_id_number__trainees.sql",
        changed_sql="invalid_id_number__trainees.changed.sql",
        unexpected_where="not id_format_ok or id_birth_date is null or id_birth_date < {{ var('id_birth_date_min') }} "
                         "or id_birth_date > today or not id_check_ok",
        description="A trainee whose ID number is not 17 digits and a check character, or whose birth "
                    "date (characters 7-14) is not a real date from id_birth_date_min to today, or whose check "
                    "character is wrong under GB 11643-1999.",
        breakdown=(
            gxe.ExpectColumnValuesToBeInSet(
                column="id_format_ok", value_set=[True], description="17 digits and a check character."),
            gxe.ExpectColumnValuesToNotBeNull(
                column="id_birth_date", row_condition=Column("id_format_ok") == True,  # noqa: E712
                description="Characters 7-14 are a real date."),
            gxe.ExpectColumnValuesToBeInSet(
                column="id_check_ok", value_set=[True], row_condition=Column("id_format_ok") == True,  # noqa: E712
                description="The check character is right under GB 11643-1999."),
        ),
    ),
    FlagSuite(
        name="flags_invalid_id_number__results",
        **_about("INVALID_ID_NUMBER", "result"),
        asset_sql="invalid_id_number__results.sql",
        changed_sql="invalid_id_number__results.changed.sql",
        unexpected_where="not id_format_ok or id_birth_date is null or id_birth_date < {{ var('id_birth_date_min') }} "
                         "or id_birth_date > today or not id_check_ok",
        description="An assessment result whose candidate ID number is malformed, has an impossible birth "
                    "date (before id_birth_date_min or after today) or a wrong GB 11643-1999 check character.",
        breakdown=(
            gxe.ExpectColumnValuesToBeInSet(
                column="id_format_ok", value_set=[True], description="17 digits and a check character."),
            gxe.ExpectColumnValuesToBeInSet(
                column="id_check_ok", value_set=[True], row_condition=Column("id_format_ok") == True,  # noqa: E712
                description="The check character is right under GB 11643-1999."),
        ),
    ),
    FlagSuite(
        name="flags_age_out_of_range",
        **_about("AGE_OUT_OF_RANGE"),
        asset_sql="age_out_of_range.sql",
        changed_sql="age_out_of_range.changed.sql",
        unexpected_where="age_years < {{ var('age_min') }} or age_years >= {{ var('age_max_exclusive') }}",
        description="An enrollment whose trainee's age in whole years on the class's start_date is under "
                    "age_min, or age_max_exclusive and over.",
        breakdown=(
            gxe.ExpectColumnValuesToBeBetween(
                column="age_years", min_value=param("age_min"), max_value=param("age_max_exclusive"),
                strict_max=True, description="Trainee age on the class start date is in range."),
        ),
    ),
    FlagSuite(
        name="flags_attendance_outside_window",
        **_about("ATTENDANCE_OUTSIDE_WINDOW"),
        asset_sql="attendance_outside_window.sql",
        changed_sql="_attendance.changed.sql",
        key_column="attendance_id",
        key_table="raw_training.attendance",
        unexpected_where=(
            "session_status = 'cancelled'"
            " or (event = 'check_in' and (captured_at < starts_at - interval '1 minute' * "
            "{{ var('checkin_early_minutes') }} or captured_at >= ends_at))"
            " or (event = 'check_out' and (captured_at <= starts_at or captured_at > ends_at + "
            "interval '1 minute' * {{ var('checkout_late_minutes') }}))"
        ),
        description="A check_in before starts_at - checkin_early_minutes or at/after ends_at; a check_out "
                    "at/before starts_at or after ends_at + checkout_late_minutes; or any attendance row "
                    "for a cancelled session.",
        breakdown=(
            gxe.ExpectColumnValuesToNotBeInSet(
                column="session_status", value_set=["cancelled"],
                description="No attendance for a cancelled session."),
            gxe.ExpectColumnValuesToBeBetween(
                column="minutes_before_start", max_value=param("checkin_early_minutes"),
                row_condition=Column("event") == "check_in",
                description="A check_in is at most checkin_early_minutes before the start."),
            gxe.ExpectColumnValuesToBeBetween(
                column="minutes_after_end", max_value=0, strict_max=True,
                row_condition=Column("event") == "check_in",
                description="A check_in is before the end."),
            gxe.ExpectColumnValuesToBeBetween(
                column="minutes_before_start", max_value=0, strict_max=True,
                row_condition=Column("event") == "check_out",
                description="A check_out is after the start."),
            gxe.ExpectColumnValuesToBeBetween(
                column="minutes_after_end", max_value=param("checkout_late_minutes"),
                row_condition=Column("event") == "check_out",
                description="A check_out is at most checkout_late_minutes after the end."),
        ),
    ),
    FlagSuite(
        name="flags_session_odd_hours",
        **_about("SESSION_ODD_HOURS"),
        asset_sql="session_odd_hours.sql",
        changed_sql="session_odd_hours.changed.sql",
        unexpected_where=(
            "start_hour < {{ var('session_earliest_hour') }}"
            " or end_hour > {{ var('session_latest_hour') }} or ends_on_later_date"
            " or duration_hours > {{ var('session_max_hours') }} or duration_hours <= 0"
        ),
        description="A held session that starts before session_earliest_hour local, ends after "
                    "session_latest_hour local or on a later local date, lasts more than "
                    "session_max_hours, or does not end after it starts.",
        breakdown=(
            gxe.ExpectColumnValuesToBeBetween(
                column="start_hour", min_value=param("session_earliest_hour"),
                description="Starts at or after session_earliest_hour (local)."),
            gxe.ExpectColumnValuesToBeBetween(
                column="end_hour", max_value=param("session_latest_hour"),
                description="Ends by session_latest_hour on its start day (local)."),
            gxe.ExpectColumnValuesToBeBetween(
                column="duration_hours", min_value=0, max_value=param("session_max_hours"), strict_min=True,
                description="Lasts more than 0 and at most session_max_hours hours."),
        ),
    ),
    FlagSuite(
        name="flags_score_flag_mismatch",
        **_about("SCORE_FLAG_MISMATCH"),
        asset_sql="score_flag_mismatch.sql",
        changed_sql="_results.changed.sql",
        unexpected_where=(
            "theory_score is null or practical_score is null"
            " or theory_score < {{ var('score_min') }} or theory_score > {{ var('score_max') }}"
            " or practical_score < {{ var('score_min') }} or practical_score > {{ var('score_max') }}"
            " or (passed = '合格' and (theory_score < {{ var('pass_mark') }}"
            " or practical_score < {{ var('pass_mark') }}))"
            " or (passed = '不合格' and theory_score >= {{ var('pass_mark') }}"
            " and practical_score >= {{ var('pass_mark') }})"
        ),
        description="A result with a score missing or outside 0..100, a 合格 with a score under pass_mark, "
                    "or a 不合格 with both scores at or over pass_mark (valid range score_min..score_max).",
        breakdown=(
            gxe.ExpectColumnValuesToNotBeNull(column="theory_score", description="Theory score present."),
            gxe.ExpectColumnValuesToNotBeNull(column="practical_score", description="Practical score present."),
            gxe.ExpectColumnValuesToBeBetween(
                column="theory_score", min_value=param("score_min"), max_value=param("score_max"),
                description="Theory score in score_min..score_max."),
            gxe.ExpectColumnValuesToBeBetween(
                column="practical_score", min_value=param("score_min"), max_value=param("score_max"),
                description="Practical score in score_min..score_max."),
            gxe.ExpectColumnValuesToBeBetween(
                column="lower_score", min_value=param("pass_mark"), row_condition=Column("passed") == "合格",
                description="A pass (合格) has both scores at or over pass_mark."),
            gxe.ExpectColumnValuesToBeBetween(
                column="lower_score", max_value=param("pass_mark"), strict_max=True,
                row_condition=Column("passed") == "不合格",
                description="A fail (不合格) has a score under pass_mark."),
        ),
    ),
)
