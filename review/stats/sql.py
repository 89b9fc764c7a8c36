"""SQL shared by the statistics: which codes each side chose, at each level.

A submitted review gives two code sets. The model's: the code of every
decision on a suggestion (accepted, rejected or replaced). The coder's final
set: accepted codes, replacements and added codes (the rule and its SQL:
``review.final_codes``). Each code is mapped to three labels the way
``coding_app.codes.metrics`` maps them: the code itself, its category (the
first three characters of a code-shaped key, the text itself otherwise) and
its chapter (from the category's row in the active release's ``Code``
table, ``unknown <code>`` when there is none), so that the SQL figures are
the code-system metrics computed in the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from review.final_codes import final_code_sql

# The shape of a code key (coding_app.codes.forms: category, then up to four
# characters); anything else is the model's text, kept as its own label.
CODE_KEY_SQL = "'^[A-Z]([0-9][0-9A-Z]|[A-Z][0-9])[0-9A-Z]{0,4}$'"

LEVELS = ("code", "category", "chapter")


def decision_codes_sql(reviews: str) -> str:
    """Rows (review_id, side, code, cat) for the reviews in CTE ``reviews``.

    side 1 is the model's code, side 2 the coder's final one; ``cat`` is the
    category of a code-shaped key, NULL otherwise. One scan of the decisions:
    each row yields its model side, its coder side, or both.
    """
    return f"""
        SELECT d.review_id, s.side, s.code,
               CASE WHEN s.code ~ {CODE_KEY_SQL} THEN left(s.code, 3) END AS cat
        FROM review_decision d
        JOIN {reviews} rv ON rv.id = d.review_id
        CROSS JOIN LATERAL (VALUES
            (1, CASE WHEN d.suggestion_id IS NOT NULL THEN d.code END),
            (2, {final_code_sql("d")})
        ) AS s(side, code)
        WHERE s.code IS NOT NULL
    """


def labelled_sql(codes: str) -> str:
    """Rows (review_id, side, level, label, chapter) for each row of ``codes``.

    ``chapter`` is the chapter number of the code (NULL when unknown), kept
    for the per-chapter breakdowns.
    """
    return f"""
        SELECT c.review_id, c.side, lv.level, lv.label, k.chapter
        FROM {codes} c
        LEFT JOIN coding_app_code k
            ON k.release_id = %(release_id)s AND k.code = c.cat
        CROSS JOIN LATERAL (VALUES
            ('code', c.code),
            ('category', coalesce(c.cat, c.code)),
            ('chapter', CASE WHEN k.id IS NULL THEN 'unknown ' || c.code
                             ELSE 'chapter ' || k.chapter END)
        ) AS lv(level, label)
    """


def release_id() -> int | None:
    """The active release, whose chapters the labels use."""
    from coding_app.codes.store import active_release

    release = active_release()
    return release.pk if release else None


def fetch_dicts(sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with transaction.atomic(), connection.cursor() as cursor:
        # Hash aggregates over a million decisions fit in memory with room
        # to spare; the default 4 MB would spill them to disk.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(sql, params)
        names: Sequence[str] = [column.name for column in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def time_zone() -> str:
    return str(settings.TIME_ZONE)


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def f1(tp: float, fp: float, fn: float) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0
