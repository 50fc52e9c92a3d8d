"""The one rule catalogue (supervision.catalogue) against RULES.md, the contract checker, dbt and GX."""
from __future__ import annotations

import fnmatch
import importlib.util
import re

import pytest

from supervision.catalogue import CATALOGUE_FILE, RULE_CODES, RULES, SEVERITIES, catalogue_text, codes, rule
from tests.conftest import CHECK_CONTRACT, CONTRACT, REPO

PACKAGED = REPO / "plugins" / "supervision" / "data" / CATALOGUE_FILE
SEED = REPO / "dbt_project" / "seeds" / CATALOGUE_FILE
RULE_MODELS = REPO / "dbt_project" / "models" / "rules"
EXPECTATIONS = REPO / "expectations"


def _contract_rules() -> list[tuple[str, str, tuple[str, ...]]]:
    """(code, severity, entity types) of every row of RULES.md's rule table, in its order."""
    text = (CONTRACT / "RULES.md").read_text(encoding="utf-8")
    table = text.split("## Rules", 1)[1].split("\n\n", 2)[1]
    rows = []
    for line in table.splitlines()[2:]:  # past the header and the |---| line
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        code, severity, entity = cells[0], cells[1], cells[2]
        rows.append((code, severity, tuple(re.findall(r"(\w+): `", entity))))
    return rows


def test_catalogue_is_rules_md():
    """Codes in RULES.md's order, each with RULES.md's severity and entity type(s)."""
    contract = _contract_rules()
    assert len(contract) == 22
    assert [(r.code, r.severity, r.entity_types) for r in RULES.values()] == contract


def test_catalogue_matches_the_contract_checker():
    """The severities and entity types here are the ones the shared contract checker expects."""
    spec = importlib.util.spec_from_file_location("check_contract", CHECK_CONTRACT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert {k: (v.severity, set(v.entity_types)) for k, v in RULES.items()} == mod.RULES


def test_every_rule_is_complete():
    assert RULE_CODES == tuple(RULES) and len(set(RULE_CODES)) == 22
    for code, r in RULES.items():
        assert r.code == code == code.upper() and r.severity in SEVERITIES
        assert r.label_zh.strip() and r.label_en.strip() and r.description.strip(), code
        assert "\n" not in r.description, f"{code}: the meaning is one line"
        assert r.entity_type == r.entity_types[0] and all(r.entity_types)
    assert len(codes("dbt")) == 16 and len(codes("gx")) == 6
    assert codes() == RULE_CODES and set(codes("dbt")) | set(codes("gx")) == set(RULE_CODES)
    with pytest.raises(KeyError):
        rule("NO_SUCH_RULE")


def test_dbt_seed_is_the_packaged_catalogue():
    """dbt's seed rule_catalogue is a byte-identical copy of the package's file (why a copy and
    not a seed path into the package: supervision.catalogue's docstring)."""
    assert SEED.read_bytes() == PACKAGED.read_bytes(), (
        f"copy {PACKAGED.relative_to(REPO)} to {SEED.relative_to(REPO)} (the package's file is the one edited)")
    assert catalogue_text() == PACKAGED.read_text(encoding="utf-8")
    section = re.search(r"^\[tool\.setuptools\.package-data\]\n(?:#.*\n)*supervision = \[(.*?)\]",
                        (REPO / "pyproject.toml").read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)
    assert section, "pyproject.toml names the package's data files"
    patterns = re.findall(r'"([^"]+)"', section[1])
    shipped = PACKAGED.relative_to(REPO / "plugins" / "supervision").as_posix()
    assert any(fnmatch.fnmatch(shipped, p) for p in patterns), "the catalogue ships in the wheel (package-data)"


def _literal(sql: str, column: str) -> set[str]:
    return set(re.findall(rf"'(\w+)'::text\s+as {column}\b", sql))


def test_dbt_rule_models_are_the_dbt_rules():
    """One model rules.rule_<code> per dbt rule of the catalogue, emitting that code and the
    catalogue's entity type; rule_findings unions all of them."""
    models = {p.stem: p.read_text(encoding="utf-8") for p in RULE_MODELS.glob("rule_*.sql")}
    findings = models.pop("rule_findings")
    assert set(models) == {rule(c).model for c in codes("dbt")}
    for code in codes("dbt"):
        r = rule(code)
        sql = models[r.model]
        assert _literal(sql, "rule_code") == {code}, r.model
        assert _literal(sql, "entity_type") == set(r.entity_types), r.model
        assert f"ref('{r.model}')" in findings, f"rule_findings misses {r.model}"


def test_gx_suites_are_the_gx_rules():
    """The record-level suites cover exactly the catalogue's GX rules and, per rule, all its entity
    types; each population's SQL emits its suite's rule_code and entity_type."""
    from supervision.quality.flags import RULE_CODES as FLAG_RULE_CODES
    from supervision.quality.flags import flag_suites

    suites = flag_suites(EXPECTATIONS)
    assert {s.rule_code for s in suites} == set(codes("gx")) == set(FLAG_RULE_CODES)
    for code in codes("gx"):
        assert sorted(s.entity_type for s in suites if s.rule_code == code) == sorted(rule(code).entity_types)
    for s in suites:
        sql = (EXPECTATIONS / "flags" / s.asset_sql).read_text(encoding="utf-8")
        assert _literal(sql, "rule_code") == {s.rule_code}, s.asset_sql
        assert _literal(sql, "entity_type") == {s.entity_type}, s.asset_sql


def test_review_catalogue_reads_the_catalogue():
    """The review application's shapes, built from the catalogue, with the values it always had."""
    from supervision.review import catalogue as cat

    assert list(cat.RULES) == list(RULE_CODES)
    assert all(cat.RULES[c] == (r.severity, r.entity_type, r.label_zh, r.label_en) for c, r in RULES.items())
    assert cat.RULES["CAMERA_DOWN"] == ("medium", "session", "摄像头未覆盖", "Cameras down during session")
    assert cat.RULES["INVALID_ID_NUMBER"] == ("low", "trainee", "身份证号无效", "Invalid ID number")
    assert cat.rule_label("SCORE_FLAG_MISMATCH") == "成绩与结论不符 Score and pass flag disagree"
    # the pages name rules through the message catalogue (English label -> Simplified): the same names
    from supervision.review import i18n
    assert all(i18n.rule_name(c) == r.label_zh for c, r in RULES.items())
    assert cat.SESSION_RULES == {
        "CAMERA_DOWN", "HEADCOUNT_SHORTFALL", "CHECKIN_BURST", "FACE_NOT_SEEN", "UNREGISTERED_SITE",
        "SESSION_ODD_HOURS", "CONCURRENT_CHECKIN", "WEAK_IDENTITY", "ATTENDANCE_OUTSIDE_WINDOW"}
    assert cat.CLAIM_RULES == {"INSUFFICIENT_HOURS", "DUPLICATE_SUBSIDY", "CERTIFICATE_MISMATCH", "EARLY_CLAIM"}
    assert cat.EXAM_RULES == {"ABNORMAL_PASS_RATE", "IDENTICAL_SCORES", "EXAM_DURING_TRAINING",
                              "ASSESSOR_DOUBLE_BOOKED", "SCORE_FLAG_MISMATCH", "CERTIFICATE_WITHOUT_PASS"}
