"""The reviews an export reads, streamed from PostgreSQL in one query.

Which review stands for a note:

- only submitted reviews count (drafts are work in progress);
- of the reviews that pass the filters, the latest submitted one per note
  (``submitted_at``, then id: ``review.desk.selectors``) is used, so a note
  is exported once, whoever coded it last (an amendment, or the second
  coder of a double-coded note);
- ``double_coded_only`` keeps notes whose prediction has submitted reviews
  by two or more coders; ``agreement_only`` keeps those of them on which
  every coder's final code set is the same, so the row's codes are agreed
  (a review's final codes: ``review.final_codes``).

One row per chosen review comes back, ordered by note id, read through a
server-side cursor in batches: memory stays flat however many rows there
are. The query runs in one statement, so it sees one consistent snapshot.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from review.desk.selectors import latest_submitted_reviews_sql
from review.final_codes import final_code_sql
from training.exports.filters import ExportFilters

FETCH_ROWS = 2000


@dataclass(frozen=True, slots=True)
class ReviewRecord:
    """What the row builders need of one review, codes as keys (``E1165``).

    ``suggested`` is the model's codes in rank order as it wrote them
    (possibly invalid); ``final`` the coder's codes, suggestion order first,
    additions after; ``changed`` counts decisions other than accept.
    ``replacements`` lists ``(model code, coder code, relation)`` for each
    replaced suggestion, the relation being how the model's code stands to
    the coder's (``Decision.relation``). ``evidence`` lists ``(final code,
    start, end, text)`` for each span a coder marked on a final code, in the
    order of ``final`` then of the note.
    """

    review_id: int
    note_id: int
    coder_id: int
    comment: str
    model_version_id: int
    prompt_version: str
    reasoning: str
    note_text: str
    decision_ids: list[int]
    final: list[str]
    changed: int
    suggested: list[str]
    replacements: list[tuple[str, str, str]]
    evidence: list[tuple[str, int, int, str]]

    @property
    def unchanged(self) -> bool:
        """The coder accepted the whole prediction as it was."""
        return self.changed == 0


def _where(filters: ExportFilters) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if filters.date_from:
        clauses.append("r.submitted_at >= %s")
        params.append(_day_start(filters.date_from))
    if filters.date_to:
        clauses.append("r.submitted_at < %s")
        params.append(_day_start(filters.date_to + dt.timedelta(days=1)))
    if filters.model_version:
        clauses.append("r.model_version_id = %s")
        params.append(filters.model_version)
    if filters.coders:
        clauses.append("r.coder_id = ANY(%s)")
        params.append(list(filters.coders))
    return " AND ".join(clauses) or "TRUE", params


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _double_coded_join(*, agreed_only: bool) -> str:
    """Keep reviews of predictions coded by two or more coders (who agree)."""
    # Each review's final code set as one comparable text, sorted.
    return f"""JOIN (
        SELECT r2.prediction_id
        FROM review_review r2
        CROSS JOIN LATERAL (
            SELECT coalesce(string_agg(DISTINCT fc, ',' ORDER BY fc), '') AS code_set
            FROM (SELECT {final_code_sql("d")} AS fc FROM review_decision d
                  WHERE d.review_id = r2.id) f
            WHERE fc IS NOT NULL
        ) s
        WHERE r2.status = 'submitted'
        GROUP BY r2.prediction_id
        HAVING count(DISTINCT r2.coder_id) >= 2
        {"AND count(DISTINCT s.code_set) = 1" if agreed_only else ""}
    ) doubled ON doubled.prediction_id = r.prediction_id"""


# A final code of the review in one of the chapters; parameters: the
# release id, then the chapters.
_IN_CHAPTERS = f"""EXISTS (
    SELECT 1 FROM review_decision d
    JOIN coding_app_code c ON c.release_id = %s AND c.code = {final_code_sql("d")}
    WHERE d.review_id = r.id AND c.chapter = ANY(%s))"""


def review_records_sql(filters: ExportFilters, release_id: int | None) -> tuple[str, list[Any]]:
    """The query and its parameters (also the bench's ``COPY`` yardstick)."""
    where, params = _where(filters)
    joins = ""
    if filters.double_coded_only:
        joins = _double_coded_join(agreed_only=filters.agreement_only)
    if filters.chapters:
        where += f" AND {_IN_CHAPTERS}"
        params.extend([release_id, list(filters.chapters)])
    chosen = latest_submitted_reviews_sql(
        columns="r.id, r.note_id, r.coder_id, r.comment, r.prediction_id",
        joins=joins,
        where=where,
    )
    final = final_code_sql("d")
    sql = f"""
        WITH chosen AS ({chosen})
        SELECT c.id, c.note_id, c.coder_id, c.comment, p.model_version_id,
               p.prompt_version, p.reasoning, n.text,
               dec.decision_ids, coalesce(dec.final, '{{}}'), dec.changed,
               coalesce(sug.codes, '{{}}'), dec.replaced, dec.replaced_by, dec.relations,
               coalesce(ev.spans, '[]'::json)
        FROM chosen c
        JOIN worker_prediction p ON p.id = c.prediction_id
        JOIN worker_note n ON n.id = c.note_id
        CROSS JOIN LATERAL (
            SELECT array_agg(d.id ORDER BY d.id) AS decision_ids,
                   array_agg({final} ORDER BY s.rank NULLS LAST, d.id)
                       FILTER (WHERE {final} IS NOT NULL) AS final,
                   count(*) FILTER (WHERE d.action <> 'accept') AS changed,
                   array_agg(d.code ORDER BY s.rank)
                       FILTER (WHERE d.action = 'replace') AS replaced,
                   array_agg(d.replacement ORDER BY s.rank)
                       FILTER (WHERE d.action = 'replace') AS replaced_by,
                   array_agg(d.relation ORDER BY s.rank)
                       FILTER (WHERE d.action = 'replace') AS relations
            FROM review_decision d
            LEFT JOIN worker_suggestion s ON s.id = d.suggestion_id
            WHERE d.review_id = c.id
        ) dec
        CROSS JOIN LATERAL (
            SELECT array_agg(s.code ORDER BY s.rank) AS codes
            FROM worker_suggestion s WHERE s.prediction_id = c.prediction_id
        ) sug
        CROSS JOIN LATERAL (
            SELECT json_agg(json_build_array({final}, e.start, e."end", e.text)
                            ORDER BY s.rank NULLS LAST, d.id, e.start, e."end", e.id) AS spans
            FROM review_decision d
            JOIN review_evidencespan e ON e.decision_id = d.id
            LEFT JOIN worker_suggestion s ON s.id = d.suggestion_id
            WHERE d.review_id = c.id AND {final} IS NOT NULL
        ) ev
        WHERE dec.decision_ids IS NOT NULL
        ORDER BY c.note_id
    """
    return sql, params


def review_records(filters: ExportFilters, release_id: int | None) -> Iterator[ReviewRecord]:
    """Stream the chosen reviews; consume it fully or close it."""
    sql, params = review_records_sql(filters, release_id)
    with transaction.atomic():
        connection.ensure_connection()
        raw = connection.connection
        assert raw is not None
        # A named cursor is PostgreSQL's server-side cursor: rows arrive
        # FETCH_ROWS at a time instead of all at once.
        with raw.cursor(name="training_export_rows") as cursor:
            cursor.itersize = FETCH_ROWS
            cursor.execute(sql, params)
            for row in cursor:
                yield _record(row)


def _record(row: tuple[Any, ...]) -> ReviewRecord:
    replaced, replaced_by, relations = row[12], row[13], row[14]
    return ReviewRecord(
        review_id=row[0],
        note_id=row[1],
        coder_id=row[2],
        comment=row[3],
        model_version_id=row[4],
        prompt_version=row[5],
        reasoning=row[6],
        note_text=row[7],
        decision_ids=row[8],
        # Two decisions may put one code in the set (a suggestion replaced by
        # a code already accepted); the set holds it once, first place kept.
        final=list(dict.fromkeys(row[9])),
        changed=row[10],
        suggested=row[11],
        replacements=list(zip(replaced, replaced_by, relations, strict=True)) if replaced else [],
        evidence=[(code, start, end, text) for code, start, end, text in row[15]],
    )
