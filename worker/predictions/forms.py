"""The form that starts a prediction job."""

from __future__ import annotations

from django import forms

from worker.models import ModelVersion, UploadBatch
from worker.predictions.services import DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE


class PredictionJobForm(forms.Form):
    model_version = forms.ModelChoiceField(
        queryset=ModelVersion.objects.exclude(status=ModelVersion.Status.RETIRED),
        empty_label=None,
        help_text="The active version is chosen unless you pick another.",
    )
    batch = forms.ModelChoiceField(
        queryset=UploadBatch.objects.filter(status=UploadBatch.Status.DONE, notes_created__gt=0),
        required=False,
        empty_label="All notes without a prediction from this model",
        label="Notes",
    )
    chunk_size = forms.IntegerField(
        min_value=1,
        max_value=MAX_CHUNK_SIZE,
        initial=DEFAULT_CHUNK_SIZE,
        help_text="Notes per task; smaller chunks spread over more workers.",
    )
