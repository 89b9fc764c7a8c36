"""The model against the coders: precision, recall and F1 at three levels,
per model version and week, and the outcome of the suggestions.

Precision is the share of the model's codes the coder kept, recall the share
of the coder's final codes the model had, both over the code sets of each
submitted review mapped to a level (see ``sql.py``), summed over reviews
(micro) or averaged over labels (macro), exactly as
``coding_app.codes.metrics.level_scores`` defines them. The figures are sums
over the weekly rollups (``rollup.py``), so a date range counts whole weeks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from review.stats.filters import StatsFilter
from review.stats.sql import LEVELS, f1, fetch_dicts, ratio, time_zone

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

# What became of the decisions ``d`` of a group, one column per outcome.
OUTCOME_COUNTS_SQL = """
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
    count(*) FILTER (WHERE d.action = 'add') AS added
"""


def _scores_sql(stats_filter: StatsFilter) -> tuple[str, dict[str, Any]]:
    where, params = stats_filter.weeks_where("s", time_zone())
    # Grouping sets give, in one pass, the per-label counts per version and
    # week, per version, and overall; macro scores average over the labels of
    # each of those groups.
    sql = f"""
        WITH per_label AS (
            SELECT level, version_id, week, label, GROUPING(version_id, week) AS grain,
                   sum(tp) AS tp, sum(fp) AS fp, sum(fn) AS fn
            FROM review_labelweekstats s
            WHERE {where}
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


def _outcomes_sql(stats_filter: StatsFilter) -> tuple[str, dict[str, Any]]:
    where, params = stats_filter.weeks_where("s", time_zone())
    sums = ", ".join(f"sum(s.{name})::bigint AS {name}" for name in (*OUTCOMES, "added"))
    sql = f"""
        WITH counts AS (
            SELECT s.version_id, s.week, sum(s.suggested)::bigint AS suggested, {sums}
            FROM review_labelweekstats s
            WHERE {where} AND s.level = 'code'
            GROUP BY s.version_id, s.week
        ),
        weeks AS (
            SELECT c.*, coalesce(w.reviews, 0) AS reviews
            FROM counts c
            LEFT JOIN review_reviewweekstats w
                ON w.version_id = c.version_id AND w.week = c.week
        )
        SELECT GROUPING(version_id, week) AS grain, version_id, week,
               sum(reviews)::bigint AS reviews, sum(suggested)::bigint AS suggested,
               {", ".join(f"sum({name})::bigint AS {name}" for name in (*OUTCOMES, "added"))}
        FROM weeks
        GROUP BY GROUPING SETS ((version_id, week), (version_id), ())
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
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "labels": self.labels,
            "precision_micro": self.precision_micro,
            "recall_micro": self.recall_micro,
            "f1_micro": self.f1_micro,
            "precision_macro": self.precision_macro,
            "recall_macro": self.recall_macro,
            "f1_macro": self.f1_macro,
        }


def _scores(row: dict[str, Any]) -> Scores:
    return Scores(
        tp=int(row["tp"]),
        fp=int(row["fp"]),
        fn=int(row["fn"]),
        labels=int(row["labels"]),
        precision_macro=float(row["p_macro"]),
        recall_macro=float(row["r_macro"]),
        f1_macro=float(row["f1_macro"]),
    )


def outcome_shares(counts: dict[str, int]) -> dict[str, float]:
    """Each outcome as a share of the suggestions; added codes as a share of
    the coders' final codes (accepted, replacements and added)."""
    shares = {name: ratio(counts[name], counts["suggested"]) for name in OUTCOMES}
    shares["added"] = ratio(counts["added"], counts["final"])
    return shares


def _outcomes(row: dict[str, Any]) -> dict[str, Any]:
    counts = {name: int(row[name] or 0) for name in ("reviews", "suggested", *OUTCOMES, "added")}
    counts["final"] = counts["suggested"] - counts["rejected"] + counts["added"]
    return {"counts": counts, "shares": outcome_shares(counts)}


def model_vs_coders(stats_filter: StatsFilter) -> dict[str, Any]:
    """Scores and outcomes overall, per model version, and per version and week.

    JSON-ready: ``overall`` holds ``levels`` (code, category, chapter) and
    ``outcomes``; ``versions`` and ``weeks`` are lists of the same, keyed by
    ``version_id`` (and ``week``, the Monday that starts it).
    """
    groups: dict[tuple[int, Any, Any], dict[str, Any]] = {}
    for row in fetch_dicts(*_scores_sql(stats_filter)):
        key = (int(row["grain"]), row["version_id"], row["week"])
        group = groups.setdefault(key, {"levels": {}})
        group["levels"][row["level"]] = _scores(row).as_dict()
    for row in fetch_dicts(*_outcomes_sql(stats_filter)):
        key = (int(row["grain"]), row["version_id"], row["week"])
        groups.setdefault(key, {"levels": {}})["outcomes"] = _outcomes(row)
    for group in groups.values():
        # Always the same order, so the same data gives the same JSON.
        group["levels"] = {n: group["levels"][n] for n in LEVELS if n in group["levels"]}
    empty: dict[str, Any] = {"levels": {}, "outcomes": {"counts": {}, "shares": {}}}
    ordered = sorted(groups.items(), key=_order)
    return {
        "overall": groups.get((3, None, None), empty),
        "versions": [{"version_id": k[1], **v} for k, v in ordered if k[0] == 1],
        "weeks": [
            {"version_id": k[1], "week": k[2].isoformat(), **v} for k, v in ordered if k[0] == 0
        ],
    }


def _order(item: tuple[tuple[int, Any, Any], Any]) -> tuple[int, int, dt.date]:
    grain, version, week = item[0]
    return grain, version or 0, week or dt.date.min
