"""What the desk's pages send: decisions, added codes, heartbeats, reassignments.

The forms only parse; whether a decision is allowed is the rule of
``review.desk.decisions``, which answers a refusal in words for the coder.
Text fields keep what was typed (no stripping) because the decision rules
normalise codes and name a wrong action as it was sent.
"""

from __future__ import annotations

from typing import Any

from django import forms

from coding_app.accounts.roles import Role, users_with_role
from review.desk.decisions import DecisionInput

COMMENT_MAX = 2000


class OptionalIdField(forms.Field):
    """A whole number, or None for anything else: the page did not say.

    The page's version and the row in focus are hints that a page drawn by
    an older script may lack; missing or garbled, they are not a refusal.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)

    def to_python(self, value: Any) -> int | None:
        raw = value if isinstance(value, str) else ""
        return int(raw) if raw.isascii() and raw.isdigit() else None


def _text() -> forms.CharField:
    return forms.CharField(required=False, strip=False)


class NextNoteForm(forms.Form):
    """The desk home's request for the next note."""

    least_confident = forms.BooleanField(required=False)


class ReviewPageForm(forms.Form):
    """Every write on the review page: the version it was drawn at, the row in focus."""

    version = OptionalIdField()
    selected = OptionalIdField()

    def refusal(self) -> str:
        """The form's errors in one line for the coder."""
        return " ".join(
            f"{name}: {' '.join(str(error) for error in errors)}"
            for name, errors in self.errors.items()
        )


class DecisionForm(ReviewPageForm):
    """Accept, reject or replace one suggestion."""

    action = _text()
    replacement = _text()
    reason = _text()
    comment = _text()

    def clean_comment(self) -> str:
        # A longer comment is cut, not refused: the decision is what counts.
        comment: str = self.cleaned_data["comment"]
        return comment[:COMMENT_MAX]

    def choice(self) -> DecisionInput:
        """The parsed decision; call after ``is_valid``."""
        data = self.cleaned_data
        return DecisionInput(
            action=data["action"],
            replacement=data["replacement"],
            reason=data["reason"],
            comment=data["comment"],
        )


class AddCodeForm(ReviewPageForm):
    """A code the model missed."""

    code = _text()


class SubmitForm(ReviewPageForm):
    """Submit the review, then open the next note (``then=next``) or the desk.

    A page drawn by an older script sends no ``then``: it goes to the desk,
    as it always did. ``no_codable_diagnosis`` is the coder's confirmation
    that a review without a final code is meant to have none.
    """

    THEN_NEXT, THEN_DESK = "next", "desk"

    no_codable_diagnosis = forms.BooleanField(required=False)
    then = forms.ChoiceField(choices=[(THEN_NEXT, "next"), (THEN_DESK, "desk")], required=False)

    def next_note(self) -> bool:
        """Whether the coder asked for the next note; call after ``is_valid``."""
        return bool(self.cleaned_data["then"] == self.THEN_NEXT)

    def submission(self) -> dict[str, Any]:
        """The arguments of ``decisions.review_submit`` that the page sends."""
        data = self.cleaned_data
        return {
            "expected_version": data["version"],
            "no_codable_diagnosis": data["no_codable_diagnosis"],
        }


class FocusForm(forms.Form):
    """The review page's query: which suggestion (or added code) to show the
    evidence of."""

    suggestion = OptionalIdField()
    added = OptionalIdField()


class HeartbeatForm(forms.Form):
    """The page's heartbeat; time it cannot read counts as none."""

    active_seconds = forms.FloatField(required=False)

    def active(self) -> float:
        if not self.is_valid():
            return 0.0
        seconds: float | None = self.cleaned_data["active_seconds"]
        return seconds or 0.0


class ReassignForm(forms.Form):
    """The coder an admin gives a task to."""

    # The queryset is lazy and copied into each form, so a coder added since
    # start-up is a choice.
    coder = forms.ModelChoiceField(queryset=users_with_role(Role.CODER))
