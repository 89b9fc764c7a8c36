"""Where the model fails: the outcome of its suggestions per code and per
chapter, with full-code precision, recall and F1, sortable and filterable.

Chapters group codes by the chapter of their category in the active
release; codes the release does not know fall under chapter ``?``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from review.stats.filters import StatsFilter, StatsFilterError
from review.stats.model_vs_coder import OUTCOMES, _reviews_cte
from review.stats.sql import decision_codes_sql, f1, fetch_dicts, ratio

COUNT_COLUMNS = ("suggested", *OUTCOMES, "added", "tp", "fp", "fn")
SORTS = ("group", *COUNT_COLUMNS, "precision", "recall", "f1")
GROUPINGS = ("code", "chapter")


@dataclass(frozen=True)
class BreakdownQuery:
    """One breakdown table: by ``code`` or ``chapter``, rows whose code or
    chapter starts with ``search`` (any when empty), with at least
    ``min_suggested`` suggestions, sorted by ``sort``, at most ``limit``."""

    by: str = "chapter"
    search: str = ""
    sort: str = "suggested"
    descending: bool = True
    min_suggested: int = 0
    limit: int = 200

    def __post_init__(self) -> None:
        if self.by not in GROUPINGS:
            raise StatsFilterError(f"by: “{self.by[:20]}” is not one of {', '.join(GROUPINGS)}.")
        if self.sort not in SORTS:
            raise StatsFilterError(f"sort: “{self.sort[:20]}” is not one of {', '.join(SORTS)}.")
        if not 1 <= self.limit <= 10_000:
            raise StatsFilterError("limit: choose between 1 and 10000 rows.")


def _sql(stats_filter: StatsFilter, query: BreakdownQuery) -> tuple[str, dict[str, Any]]:
    cte, params = _reviews_cte(stats_filter)
    group = "p.code" if query.by == "code" else "p.chapter"
    # Chapters are numbers kept as text: 2 comes before 10.
    by_group = "lpad(grp, 8, '0')" if query.by == "chapter" else "grp"
    sort = by_group if query.sort == "group" else query.sort
    direction = "DESC" if query.descending else "ASC"
    params = {**params, "search": query.search.upper().replace(".", "") + "%",
              "min_suggested": query.min_suggested, "limit": query.limit}  # fmt: skip
    sums = ", ".join(f"sum(coalesce(o.{n}, 0))::bigint AS {n}" for n in (*OUTCOMES, "added"))
    # Per review and code: did the model have it, did the coder keep it, and
    # what became of the suggestion; then summed per code or chapter.
    sql = f"""
        WITH {cte},
        codes AS ({decision_codes_sql("rv")}),
        presence AS (
            SELECT c.review_id, c.code, coalesce(k.chapter, '?') AS chapter,
                   bool_or(c.side = 1) AS m, bool_or(c.side = 2) AS h
            FROM codes c
            LEFT JOIN coding_app_code k ON k.release_id = %(release_id)s AND k.code = c.cat
            GROUP BY c.review_id, c.code, coalesce(k.chapter, '?')
        ),
        outcome AS (
            SELECT d.review_id, d.code,
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
            FROM review_decision d JOIN rv ON rv.id = d.review_id
            GROUP BY d.review_id, d.code
        ),
        grouped AS (
            SELECT {group} AS grp,
                   sum(coalesce(o.suggested, 0))::bigint AS suggested,
                   {sums},
                   count(*) FILTER (WHERE p.m AND p.h) AS tp,
                   count(*) FILTER (WHERE p.m AND NOT p.h) AS fp,
                   count(*) FILTER (WHERE p.h AND NOT p.m) AS fn
            FROM presence p
            LEFT JOIN outcome o ON o.review_id = p.review_id AND o.code = p.code
            WHERE {group} LIKE %(search)s
            GROUP BY {group}
        )
        SELECT g.*, k.description,
               CASE WHEN tp + fp > 0 THEN tp::float / (tp + fp) ELSE 0 END AS precision,
               CASE WHEN tp + fn > 0 THEN tp::float / (tp + fn) ELSE 0 END AS recall,
               CASE WHEN tp > 0 THEN 2.0 * tp / (2 * tp + fp + fn) ELSE 0 END AS f1
        FROM grouped g
        LEFT JOIN coding_app_code k ON k.release_id = %(release_id)s AND k.code = g.grp
        WHERE g.suggested >= %(min_suggested)s
        ORDER BY {sort} {direction}, grp
        LIMIT %(limit)s
    """
    return sql, params


def breakdown(stats_filter: StatsFilter, query: BreakdownQuery) -> list[dict[str, Any]]:
    """Rows of the table: ``group`` (code or chapter), ``description``, the
    counts, ``precision``, ``recall`` and ``f1`` at full-code level."""
    sql, params = _sql(stats_filter, query)
    rows = []
    for row in fetch_dicts(sql, params):
        counts = {name: int(row[name]) for name in COUNT_COLUMNS}
        rows.append({
            "group": row["grp"], "description": row["description"] or "", **counts,
            "precision": ratio(counts["tp"], counts["tp"] + counts["fp"]),
            "recall": ratio(counts["tp"], counts["tp"] + counts["fn"]),
            "f1": f1(counts["tp"], counts["fp"], counts["fn"]),
        })  # fmt: skip
    return rows
