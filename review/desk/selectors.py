"""Reads for the desk: the review page in a fixed number of queries.

The page needs the review (with its note, prediction, model version and
task: one joined query), the prediction's suggestions and the review's
decisions (one query each). Descriptions and relations come from the
in-memory hierarchy, so the count does not grow with the suggestions.

Which submitted review stands for a note (its latest) is chosen here too,
as a queryset and as SQL, for the training labels and the exports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from coding_app.codes.diff import CodePair, CodeSetDiff, diff_code_sets
from coding_app.codes.display import CodeLabel, code_label
from coding_app.codes.entry import CodeEntry
from coding_app.codes.forms import dotted
from coding_app.codes.hierarchy import Hierarchy, Relation
from coding_app.codes.store import current_hierarchy
from coding_app.models import User
from review.desk.duplicates import DuplicateCode, duplicate_codes
from review.desk.likelihood import Likelihood, likelihood
from review.desk.note_text import NotePiece, note_pieces
from review.models import Decision, EvidenceSpan, Review, ReviewTask
from worker.models import Suggestion

# Relations between two suggestions worth showing a coder (a pair that only
# shares a chapter says little).
SHOWN_RELATIONS = {Relation.ANCESTOR, Relation.DESCENDANT, Relation.SIBLING, Relation.SAME_CATEGORY}


@dataclass
class SuggestionRow:
    suggestion: Suggestion
    entry: CodeEntry | None
    decision: Decision | None
    replacement: CodeEntry | None
    related: list[tuple[str, str]] = field(default_factory=list)
    # The warning when another decision already puts this code in the set.
    duplicate: str = ""

    @property
    def state(self) -> str:
        return self.decision.action if self.decision else "open"

    @property
    def likelihood(self) -> Likelihood | None:
        """The score's band; None without a score or for one that is not a
        probability (the page then shows the bare number)."""
        try:
            return likelihood(self.suggestion.score)
        except ValueError:
            return None

    @property
    def spans(self) -> list[EvidenceSpan]:
        """The coder's evidence for this code (prefetched with the decisions)."""
        return list(self.decision.evidence_spans.all()) if self.decision else []


@dataclass
class AddedRow:
    decision: Decision
    entry: CodeEntry | None
    duplicate: str = ""

    @property
    def spans(self) -> list[EvidenceSpan]:
        return list(self.decision.evidence_spans.all())


@dataclass
class ReviewPage:
    review: Review
    rows: list[SuggestionRow]
    added: list[AddedRow]
    diff: CodeSetDiff
    entries: dict[str, CodeEntry]
    selected: SuggestionRow | None
    pieces: list[NotePiece]
    # An added code in focus instead of a suggestion: its evidence is shown.
    selected_added: AddedRow | None = None
    # Final codes that two or more decisions hold (warned, counted once).
    duplicates: list[DuplicateCode] = field(default_factory=list)

    @property
    def reasons(self) -> list[tuple[str, str]]:
        return [(str(value), str(label)) for value, label in Decision.Reason.choices]

    @property
    def open_count(self) -> int:
        return sum(1 for row in self.rows if row.decision is None)

    @property
    def has_final_codes(self) -> bool:
        """Whether the coder's list holds a code; without one, submitting
        asks for the "no codable diagnosis" confirmation."""
        decided = (row.decision for row in self.rows if row.decision is not None)
        return bool(self.added) or any(d.final_code is not None for d in decided)

    @property
    def editable(self) -> bool:
        return self.review.status == Review.Status.DRAFT

    def described(self, code: str) -> str:
        entry = self.entries.get(code)
        label = CodeLabel(entry.dotted, entry.description) if entry else code_label(code, None)
        return str(label)

    def diff_rows(self) -> list[dict[str, Any]]:
        """The diff in words, one row per pair or lone code."""
        rows: list[dict[str, Any]] = [_pair_row(self, p) for p in self.diff.pairs]
        rows += [
            {"model": self.described(c), "coder": "", "relation": self._alone(c), "kind": "model"}
            for c in self.diff.model_only
        ]
        rows += [
            {"model": "", "coder": self.described(c), "relation": "Only the coder", "kind": "coder"}
            for c in self.diff.coder_only
        ]
        return rows

    def _alone(self, code: str) -> str:
        # A suggestion replaced by a code the set already holds pairs with
        # nothing: the replacement is paired once, with its own suggestion.
        for duplicate in self.duplicates:
            for holder in duplicate.holders:
                if holder.action == Decision.Action.REPLACE and holder.code == code:
                    return (
                        f"Only the model: you replaced it with {dotted(duplicate.code)}, "
                        "already in your codes"
                    )
        return "Only the model"


def _pair_row(page: ReviewPage, pair: CodePair) -> dict[str, Any]:
    return {
        "model": page.described(pair.model),
        "coder": page.described(pair.coder),
        "relation": pair.relation.label,
        "kind": pair.relation.value,
    }


def review_for_coder(review_id: int, coder: User) -> Review | None:
    return (
        Review.objects.select_related(
            "note", "prediction", "model_version", "task", "task__leased_by"
        )
        .filter(pk=review_id, coder=coder)
        .first()
    )


def review_page(
    review: Review, selected_id: int | None = None, added_id: int | None = None
) -> ReviewPage:
    """The page with suggestion ``selected_id`` in focus, or added code ``added_id``."""
    hierarchy = current_hierarchy()
    suggestions = list(
        Suggestion.objects.filter(prediction_id=review.prediction_id).order_by("rank")
    )
    decisions = list(
        Decision.objects.filter(review=review).prefetch_related("evidence_spans").order_by("pk")
    )
    by_suggestion = {d.suggestion_id: d for d in decisions if d.suggestion_id is not None}
    rows = [
        SuggestionRow(
            suggestion=s,
            entry=hierarchy.entry(s.code) if s.valid else None,
            decision=by_suggestion.get(s.pk),
            replacement=_replacement(by_suggestion.get(s.pk), hierarchy),
        )
        for s in suggestions
    ]
    _relate(rows, hierarchy)
    added = [
        AddedRow(d, hierarchy.entry(d.code)) for d in decisions if d.action == Decision.Action.ADD
    ]
    model_codes = [s.code for s in suggestions if s.valid]
    final = [code for d in decisions if (code := d.final_code) is not None]
    diff = diff_code_sets(model_codes, final, hierarchy)
    entries = {
        code: entry
        for code in {*model_codes, *final}
        if (entry := hierarchy.entry(code)) is not None
    }
    duplicates = _mark_duplicates(decisions, rows, added)
    selected, selected_added = _focus(rows, added, selected_id, added_id)
    pieces = _pieces(review.note.text, selected or selected_added)
    return ReviewPage(
        review, rows, added, diff, entries, selected, pieces, selected_added, duplicates
    )


def _focus(
    rows: list[SuggestionRow], added: list[AddedRow], selected_id: int | None, added_id: int | None
) -> tuple[SuggestionRow | None, AddedRow | None]:
    """The row in focus: the added code asked for, else the suggestion asked
    for, else the first suggestion with evidence."""
    selected_added = next((a for a in added if a.decision.pk == added_id), None)
    if selected_added is not None:
        return None, selected_added
    selected = next((r for r in rows if r.suggestion.pk == selected_id), None)
    return selected or next((r for r in rows if r.suggestion.evidence), None), None


def _mark_duplicates(
    decisions: list[Decision], rows: list[SuggestionRow], added: list[AddedRow]
) -> list[DuplicateCode]:
    duplicates = duplicate_codes(decisions)
    notes = {h.pk: d.note_for(h) for d in duplicates for h in d.holders}
    for row in rows:
        if row.decision is not None:
            row.duplicate = notes.get(row.decision.pk, "")
    for added_row in added:
        added_row.duplicate = notes.get(added_row.decision.pk, "")
    return duplicates


def _pieces(text: str, focus: SuggestionRow | AddedRow | None) -> list[NotePiece]:
    """The note with the evidence of the row in focus: the model's (for a
    suggestion) and the coder's."""
    model = focus.suggestion.evidence if isinstance(focus, SuggestionRow) else []
    coder = [(span.start, span.end) for span in focus.spans] if focus else []
    return note_pieces(text, model, coder)


def _replacement(decision: Decision | None, hierarchy: Hierarchy) -> CodeEntry | None:
    if decision is None or not decision.replacement:
        return None
    return hierarchy.entry(decision.replacement)


def _relate(rows: list[SuggestionRow], hierarchy: Hierarchy) -> None:
    valid = [row for row in rows if row.entry is not None]
    for row in valid:
        for other in valid:
            if other is row:
                continue
            relation = hierarchy.relation(row.suggestion.code, other.suggestion.code)
            if relation in SHOWN_RELATIONS:
                assert other.entry is not None
                row.related.append((other.entry.dotted, relation.label))


def coder_reviews(coder: User, limit: int = 20) -> QuerySet[Review]:
    return Review.objects.filter(coder=coder).select_related("note")[:limit]


def coder_counts(coder: User) -> dict[str, int]:
    return Review.objects.filter(coder=coder).aggregate(
        drafts=Count("pk", filter=Q(status=Review.Status.DRAFT)),
        submitted=Count("pk", filter=Q(status=Review.Status.SUBMITTED)),
    )


def leased_tasks() -> QuerySet[ReviewTask]:
    return (
        ReviewTask.objects.filter(state=ReviewTask.State.LEASED)
        .select_related("note", "leased_by")
        .order_by("lease_expires_at")
    )


def latest_submitted_reviews(reviews: QuerySet[Review] | None = None) -> QuerySet[Review]:
    """Of ``reviews`` (all by default), each note's latest submitted one.

    The latest is the greatest ``submitted_at`` (a NULL counts as latest, as
    PostgreSQL sorts it), then the greatest id; ``latest_submitted_reviews_sql``
    is the same choice for raw queries.
    """
    chosen = Review.objects.all() if reviews is None else reviews
    return (
        chosen.filter(status=Review.Status.SUBMITTED)
        .order_by("note_id", "-submitted_at", "-pk")
        .distinct("note_id")
    )


def latest_submitted_reviews_sql(*, columns: str, joins: str = "", where: str = "TRUE") -> str:
    """The SQL of ``latest_submitted_reviews``: ``columns`` of ``review_review r``
    (with ``joins``), one row per note, among the rows that pass ``where``."""
    return f"""
        SELECT DISTINCT ON (r.note_id) {columns}
        FROM review_review r
        {joins}
        WHERE r.status = 'submitted' AND ({where})
        ORDER BY r.note_id, r.submitted_at DESC, r.id DESC
    """
