"""Thresholds come from dbt_project.yml vars, with RULES.md defaults for keys not (yet) there."""
from __future__ import annotations

import pytest

from supervision.quality.flags import render_flag_suites
from supervision.quality.thresholds import RULE_DEFAULTS, load_thresholds, render_vars


def test_vars_override_defaults_and_missing_keys_fall_back(tmp_path, caplog):
    yml = tmp_path / "dbt_project.yml"
    yml.write_text("name: supervision\nvars:\n  face_min_score: 0.8\n  pass_mark: 65\n  other_rule_var: 3\n")
    got = load_thresholds(yml)
    assert got["face_min_score"] == 0.8 and got["pass_mark"] == 65
    assert got["age_min"] == RULE_DEFAULTS["age_min"]
    assert set(got) == set(RULE_DEFAULTS)
    assert "age_min=16" in caplog.text


def test_missing_file_gives_rules_md_defaults(tmp_path):
    assert load_thresholds(tmp_path / "nope.yml") == RULE_DEFAULTS


def test_non_numeric_var_and_bad_date_are_refused(tmp_path):
    yml = tmp_path / "dbt_project.yml"
    yml.write_text("vars:\n  age_min: sixteen\n")
    with pytest.raises(ValueError, match="age_min"):
        load_thresholds(yml)
    yml.write_text("vars:\n  id_birth_date_min: long ago\n")
    with pytest.raises(ValueError, match="id_birth_date_min"):
        load_thresholds(yml)


def test_the_projects_dbt_vars_load():
    got = load_thresholds()
    assert set(got) == set(RULE_DEFAULTS)


def test_render_vars_fills_numbers_and_refuses_unknown_names():
    assert render_vars("x < {{ var('face_min_score') }}", {"face_min_score": 0.75}) == "x < 0.75"
    with pytest.raises(KeyError, match="nope"):
        render_vars("{{ var('nope') }}", {})


def test_every_suite_renders_with_the_thresholds_and_no_placeholder_is_left():
    values = {**RULE_DEFAULTS, "face_min_score": 0.81, "checkin_early_minutes": 17}
    suites = render_flag_suites(values)
    assert {s.spec.rule_code for s in suites} == {"WEAK_IDENTITY", "INVALID_ID_NUMBER", "AGE_OUT_OF_RANGE",
                                                  "ATTENDANCE_OUTSIDE_WINDOW", "SESSION_ODD_HOURS",
                                                  "SCORE_FLAG_MISMATCH"}
    text = "\n".join(s.asset_sql + s.unexpected_rows_query for s in suites)
    assert "{{" not in text and "face_score < 0.81" in text and "* 17" in text
    assert "id_birth_date < date '1900-01-01'" in text and "theory_score > 100" in text
    for s in suites:
        assert s.unexpected_rows_query.startswith("select * from {batch} where ")
        assert "{batch}" not in s.findings_insert()
