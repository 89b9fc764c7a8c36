"""The model against the coders: precision, recall and F1 at three levels,
per model version and week, the outcome of the suggestions, and where the
model fails (per chapter and per code).

Precision is the share of the model's codes the coder kept, recall the share
of the coder's final codes the model had, both over the code sets of each
submitted review mapped to a level (see ``sql.py``), summed over reviews
(micro) or averaged over labels (macro), exactly as
``coding_app.codes.metrics.level_scores`` defines them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from review.stats.filters import StatsFilter
from review.stats.sql import (
    LEVELS,
    decision_codes_sql,
    f1,
    fetch_dicts,
    labelled_sql,
    ratio,
    release_id,
    time_zone,
)

# How a replacement stands to the suggestion it replaced
# (``hierarchy.relation(suggested, replacement)``): ancestor means the
# suggestion was the less specific code, so the coder chose a more specific one.
OUTCOMES = (
    "accepted",
    "replaced_more_specific",
    "replaced_less_specific",
    "replaced_sibling",
    "replaced_elsewhere",
    "rejected",
)


def _reviews_cte(stats_filter: StatsFilter) -> tuple[str, dict[str, Any]]:
    where, params = stats_filter.where("r")
    params = {**params, "tz": time_zone(), "release_id": release_id()}
    cte = f"""
        rv AS MATERIALIZED (
            SELECT r.id, r.model_version_id AS version_id,
                   date_trunc('week', r.submitted_at AT TIME ZONE %(tz)s)::date AS week
            FROM review_review r
            WHERE {where}
        )
    """
    return cte, params


def _scores_sql(stats_filter: StatsFilter) -> tuple[str, dict[str, Any]]:
    cte, params = _reviews_cte(stats_filter)
    # Grouping sets give, in one pass, the per-label counts per version and
    # week, per version, and overall; macro scores average over the labels of
    # each of those groups.
    sql = f"""
        WITH {cte},
        codes AS ({decision_codes_sql("rv")}),
        labelled AS ({labelled_sql("codes")}),
        presence AS (
            SELECT l.level, rv.version_id, rv.week, l.label,
                   bool_or(l.side = 1) AS m, bool_or(l.side = 2) AS h
            FROM labelled l JOIN rv ON rv.id = l.review_id
            GROUP BY l.level, l.review_id, rv.version_id, rv.week, l.label
        ),
        per_label AS (
            SELECT level, version_id, week, label,
                   GROUPING(version_id, week) AS grain,
                   count(*) FILTER (WHERE m AND h) AS tp,
                   count(*) FILTER (WHERE m AND NOT h) AS fp,
                   count(*) FILTER (WHERE h AND NOT m) AS fn
            FROM presence
            GROUP BY GROUPING SETS (
                (level, version_id, week, label), (level, version_id, label), (level, label)
            )
        )
        SELECT grain, level, version_id, week, count(*) AS labels,
               sum(tp)::bigint AS tp, sum(fp)::bigint AS fp, sum(fn)::bigint AS fn,
               avg(CASE WHEN tp + fp > 0 THEN tp::float / (tp + fp) ELSE 0 END) AS p_macro,
               avg(CASE WHEN tp + fn > 0 THEN tp::float / (tp + fn) ELSE 0 END) AS r_macro,
               avg(CASE WHEN tp > 0 THEN 2.0 * tp / (2 * tp + fp + fn) ELSE 0 END) AS f1_macro
        FROM per_label
        GROUP BY grain, level, version_id, week
    """
    return sql, params


@dataclass(frozen=True)
class Scores:
    tp: int
    fp: int
    fn: int
    labels: int
    precision_macro: float
    recall_macro: float
    f1_macro: float

    @property
    def precision_micro(self) -> float:
        return ratio(self.tp, self.tp + self.fp)

    @property
    def recall_micro(self) -> float:
        return ratio(self.tp, self.tp + self.fn)

    @property
    def f1_micro(self) -> float:
        return f1(self.tp, self.fp, self.fn)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tp": self.tp, "fp": self.fp, "fn": self.fn, "labels": self.labels,
            "precision_micro": self.precision_micro, "recall_micro": self.recall_micro,
            "f1_micro": self.f1_micro, "precision_macro": self.precision_macro,
            "recall_macro": self.recall_macro, "f1_macro": self.f1_macro,
        }  # fmt: skip


def _scores(row: dict[str, Any]) -> Scores:
    return Scores(
        tp=int(row["tp"]), fp=int(row["fp"]), fn=int(row["fn"]), labels=int(row["labels"]),
        precision_macro=float(row["p_macro"]), recall_macro=float(row["r_macro"]),
        f1_macro=float(row["f1_macro"]),
    )  # fmt: skip


def _outcomes_sql(stats_filter: StatsFilter) -> tuple[str, dict[str, Any]]:
    cte, params = _reviews_cte(stats_filter)
    sql = f"""
        WITH {cte}
        SELECT GROUPING(rv.version_id, rv.week) AS grain, rv.version_id, rv.week,
               count(DISTINCT d.review_id) AS reviews,
               count(d.suggestion_id) AS suggested,
               count(*) FILTER (WHERE d.action = 'accept') AS accepted,
               count(*) FILTER (WHERE d.action = 'replace' AND d.relation = 'ancestor')
                   AS replaced_more_specific,
               count(*) FILTER (WHERE d.action = 'replace' AND d.relation = 'descendant')
                   AS replaced_less_specific,
               count(*) FILTER (WHERE d.action = 'replace' AND d.relation = 'sibling')
                   AS replaced_sibling,
               count(*) FILTER (WHERE d.action = 'replace'
                                AND d.relation NOT IN ('ancestor', 'descendant', 'sibling'))
                   AS replaced_elsewhere,
               count(*) FILTER (WHERE d.action = 'reject') AS rejected,
               count(*) FILTER (WHERE d.action = 'add') AS added,
               count(*) FILTER (WHERE d.action <> 'reject') AS final
        FROM review_decision d JOIN rv ON rv.id = d.review_id
        GROUP BY GROUPING SETS ((rv.version_id, rv.week), (rv.version_id), ())
    """
    return sql, params


def outcome_shares(counts: dict[str, Any]) -> dict[str, float]:
    """Each outcome as a share of the suggestions; added codes as a share of
    the coders' final codes."""
    shares = {name: ratio(counts[name], counts["suggested"]) for name in OUTCOMES}
    shares["added"] = ratio(counts["added"], counts["final"])
    return shares


def _week(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def model_vs_coders(stats_filter: StatsFilter) -> dict[str, Any]:
    """Scores and outcomes overall, per model version, and per version and week.

    JSON-ready: ``overall`` holds ``levels`` (code, category, chapter) and
    ``outcomes``; ``versions`` and ``weeks`` are lists of the same, keyed by
    ``version_id`` (and ``week``, the Monday that starts it).
    """
    sql, params = _scores_sql(stats_filter)
    groups: dict[tuple[int, Any, Any], dict[str, Any]] = {}
    for row in fetch_dicts(sql, params):
        key = (int(row["grain"]), row["version_id"], row["week"])
        group = groups.setdefault(key, {"levels": {}})
        group["levels"][row["level"]] = _scores(row).as_dict()
    sql, params = _outcomes_sql(stats_filter)
    for row in fetch_dicts(sql, params):
        key = (int(row["grain"]), row["version_id"], row["week"])
        counts = {
            name: int(row[name]) for name in (*OUTCOMES, "reviews", "suggested", "added", "final")
        }
        group = groups.setdefault(key, {"levels": {}})
        group["outcomes"] = {"counts": counts, "shares": outcome_shares(counts)}
    for group in groups.values():
        # Always the same order, so the same data gives the same JSON.
        group["levels"] = {n: group["levels"][n] for n in LEVELS if n in group["levels"]}
    empty: dict[str, Any] = {"levels": {}, "outcomes": {"counts": {}, "shares": {}}}
    overall = groups.get((3, None, None), empty)
    versions = [
        {"version_id": key[1], **value} for key, value in sorted(groups.items(), key=_order)
        if key[0] == 1
    ]  # fmt: skip
    weeks = [
        {"version_id": key[1], "week": _week(key[2]), **value}
        for key, value in sorted(groups.items(), key=_order)
        if key[0] == 0
    ]
    return {"overall": overall, "versions": versions, "weeks": weeks}


def _order(item: tuple[tuple[int, Any, Any], Any]) -> tuple[int, int, dt.date]:
    grain, version, week = item[0]
    return grain, version or 0, week or dt.date.min
