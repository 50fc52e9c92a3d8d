"""Source simulator: the training platform database, video JSON Lines and assessment CSVs of a
simulated Shanghai, in the contract's formats, with labelled anomalies and known faults.

    from supervision.simulator import generate
    summary = generate(date(2024, 1, 1), date(2024, 1, 14), scale=0.05, seed=2024)

``generate(start, end, scale=0.05, seed=2024, training_db_url=None, landing=None, labels_dir=None,
anomaly_rate=0.002, fault_rate=0.02, backfill=True, write_db=True) -> dict`` writes what the three
systems deliver on the days start..end (see ``core.generate``). The world goes live on 2024-01-01.

Outputs besides the sources, in ``labels_dir`` (default ``$SUPERVISION_VAR_DIR/simulator``), merged
across calls (one line per key, sorted):

- ``labels.csv``: ``rule_code, entity_key, must_fire, day, note``; key (rule_code, entity_key) in the
  contract's entity_key format; must_fire ``true`` (the pipeline must produce that alert) or
  ``false`` (it must not: a near-miss at the rule's boundary); day = the local date the case is
  about. A label is written once everything it depends on has been delivered. The background data
  fires no rule, so every alert on simulated data should match a ``true`` label.
- ``gaming.csv``: ``entity_type, entity_id, actor, tricks, first_day``: the gaming actors
  (``scenarios/gaming.py``: institutions and an evaluation org that stay just inside every
  threshold and fire no rule), written when anomaly_rate > 0; the risk benchmark's ground truth.
- ``faults.csv``: ``day, source, object, fault, count``; source ``video`` | ``assessment`` |
  ``training``; object = the file (landing-relative path) or the table; day = the delivery day.
  Faults: video ``truncated_gzip, not_json, missing_field, unknown_type, unknown_camera,
  ts_without_offset``; assessment ``encoding_gb18030, utf8_bom, columns_reordered, blank_lines,
  too_few_columns, too_many_columns, number_spaces, fullwidth_digits, bad_date_format``; training
  ``out_of_enum, dangling_fk, invalid_id_number``. Not a fault but listed there too: assessment
  ``traditional_script``, a file whose headers and enumerations are in Traditional characters (an
  office on the platform's older version, SOURCES.md "Script"); the others are in Simplified.

Everything the simulated systems write in Chinese is in Simplified characters (names, addresses,
occupations), as Shanghai's systems write it, but for those Traditional assessment files.
"""
from supervision.simulator.core import generate
from supervision.simulator.scenarios import RULES

__all__ = ["generate", "RULES"]
