"""The labels against an independent, literal reading of RULES.md (tests/simulator/oracle.py)."""
from __future__ import annotations

from datetime import timedelta

from supervision.simulator.scenarios import MAX_LAG
from tests.simulator import oracle
from tests.simulator.conftest import LAST


def test_labels_agree_with_the_rules_as_written(run, oracle_findings):
    found = oracle_findings
    labels = oracle.read_labels(run.labels_dir / "labels.csv")
    res = oracle.compare(found, labels)
    assert res["missed_positives"] == []
    assert res["fired_negatives"] == []
    # the background fires nothing; only scenarios of the last days, whose late video or next-day
    # corrections are not delivered yet, may show a finding that is not labelled (yet)
    pending = {(LAST - timedelta(days=k)).strftime("%Y%m%d") for k in range(MAX_LAG)}
    assert [f for f in res["unlabelled_findings"] if not any(d in f[1] for d in pending)] == []
    assert len(found) > 200


def test_oracle_can_fail(run, oracle_findings):
    """The comparison is not vacuous: dropping a positive's evidence shows up as a miss."""
    labels = oracle.read_labels(run.labels_dir / "labels.csv")
    pos = next(r for r in labels if r["rule_code"] == "CAMERA_DOWN" and r["must_fire"] == "true")
    found = oracle_findings - {("CAMERA_DOWN", pos["entity_key"])}
    assert ("CAMERA_DOWN", pos["entity_key"]) in oracle.compare(found, labels)["missed_positives"]
