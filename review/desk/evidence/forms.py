"""What the page sends to mark evidence: the code's row and the selection."""

from __future__ import annotations

from django import forms

from review.desk.evidence.services import EvidenceTarget, SpanInput
from review.desk.forms import OptionalIdField, ReviewPageForm


class EvidenceForm(ReviewPageForm):
    """A selection of the note for a suggestion's code or an added code.

    Missing or garbled offsets are no selection (``span`` is None): the
    rules say so in words, like every other refusal on the page.
    """

    suggestion = OptionalIdField()
    decision = OptionalIdField()
    start = OptionalIdField()
    end = OptionalIdField()
    text = forms.CharField(required=False, strip=False)

    def target(self) -> EvidenceTarget:
        data = self.cleaned_data
        return EvidenceTarget(suggestion_id=data["suggestion"], decision_id=data["decision"])

    def span(self) -> SpanInput | None:
        data = self.cleaned_data
        if data["start"] is None or data["end"] is None or not data["text"]:
            return None
        return SpanInput(start=data["start"], end=data["end"], text=data["text"])
