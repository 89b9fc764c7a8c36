"""The admin's view of one note and what each model version said about it."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from coding_app.roles import Role, role_required
from worker.evidence import evidence_pieces
from worker.models import Note, Prediction, Suggestion


@require_GET
@role_required(Role.ADMIN)
def note_detail(request: HttpRequest, note_id: int) -> HttpResponse:
    predictions = Prediction.objects.select_related("model_version").prefetch_related(
        Prefetch("suggestions", queryset=Suggestion.objects.order_by("rank"))
    )
    note = get_object_or_404(
        Note.objects.select_related("batch").prefetch_related(
            Prefetch("predictions", queryset=predictions.order_by("-created_at"))
        ),
        pk=note_id,
    )
    suggestions = [s for p in note.predictions.all() for s in p.suggestions.all()]
    selected = _selected(suggestions, request.GET.get("suggestion", ""))
    context = {
        "note": note,
        "selected": selected,
        "pieces": evidence_pieces(note.text, selected.evidence if selected else []),
    }
    return render(request, "worker/note_detail.html", context)


def _selected(suggestions: list[Suggestion], wanted: str) -> Suggestion | None:
    chosen = next((s for s in suggestions if str(s.pk) == wanted), None)
    return chosen or next((s for s in suggestions if s.evidence), None)
