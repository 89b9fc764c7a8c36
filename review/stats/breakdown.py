"""Where the model fails: the outcome of its suggestions per code and per
chapter, with full-code precision, recall and F1, sortable and filterable.

Chapters group codes by the chapter of their category in the active
release; codes the release does not know fall under chapter ``?``. Read from
the weekly rollups, so a date range counts whole weeks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from review.stats.filters import StatsFilter, StatsFilterError
from review.stats.model_vs_coder import OUTCOMES
from review.stats.sql import f1, fetch_dicts, ratio, release_id, time_zone

COUNT_COLUMNS = ("suggested", *OUTCOMES, "added", "tp", "fp", "fn")
SORTS = ("group", *COUNT_COLUMNS, "precision", "recall", "f1")
GROUPINGS = ("code", "chapter")


@dataclass(frozen=True)
class BreakdownQuery:
    """One breakdown table: by ``code`` or ``chapter``, rows whose code or
    chapter starts with ``search`` (any when empty), of codes in ``chapter``
    (any when empty), with at least
    ``min_suggested`` suggestions, sorted by ``sort``, at most ``limit``."""

    by: str = "chapter"
    search: str = ""
    sort: str = "suggested"
    descending: bool = True
    min_suggested: int = 0
    limit: int = 200
    chapter: str = ""

    def __post_init__(self) -> None:
        if self.by not in GROUPINGS:
            raise StatsFilterError(f"by: “{self.by[:20]}” is not one of {', '.join(GROUPINGS)}.")
        if self.sort not in SORTS:
            raise StatsFilterError(f"sort: “{self.sort[:20]}” is not one of {', '.join(SORTS)}.")
        if not 1 <= self.limit <= 10_000:
            raise StatsFilterError("limit: choose between 1 and 10000 rows.")


def _sql(stats_filter: StatsFilter, query: BreakdownQuery) -> tuple[str, dict[str, Any]]:
    where, params = stats_filter.weeks_where("s", time_zone())
    group = "s.label" if query.by == "code" else "coalesce(nullif(s.chapter, ''), '?')"
    # Chapters are numbers kept as text: 2 comes before 10.
    by_group = "lpad(grp, 8, '0')" if query.by == "chapter" else "grp"
    sort = by_group if query.sort == "group" else query.sort
    direction = "DESC" if query.descending else "ASC"
    sums = ", ".join(f"sum(s.{name})::bigint AS {name}" for name in COUNT_COLUMNS)
    params = {
        **params,
        "search": query.search.upper().replace(".", "") + "%",
        "min_suggested": query.min_suggested,
        "limit": query.limit,
        "chapter": query.chapter,
        "release_id": release_id(),
    }
    sql = f"""
        WITH grouped AS (
            SELECT {group} AS grp, {sums}
            FROM review_labelweekstats s
            WHERE {where} AND s.level = 'code' AND {group} LIKE %(search)s
              AND (%(chapter)s = '' OR s.chapter = %(chapter)s)
            GROUP BY 1
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
        rows.append(
            {
                "group": row["grp"],
                "description": row["description"] or "",
                **counts,
                "precision": ratio(counts["tp"], counts["tp"] + counts["fp"]),
                "recall": ratio(counts["tp"], counts["tp"] + counts["fn"]),
                "f1": f1(counts["tp"], counts["fp"], counts["fn"]),
            }
        )
    return rows
