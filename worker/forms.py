from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator

from worker.models import ModelVersion, UploadBatch
from worker.prediction_jobs import DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE


class UploadForm(forms.Form):
    notes = forms.FileField(
        label="Notes file",
        help_text=".jsonl, .csv, .txt, .zip of .txt, or MIMIC-IV discharge.csv(.gz)",
    )
    diagnoses = forms.FileField(
        label="MIMIC-IV diagnoses_icd.csv(.gz)",
        required=False,
        help_text="Only with discharge.csv: its ICD-10 rows become reference codes.",
    )
    source = forms.CharField(
        max_length=100,
        help_text="Where the notes come from; ids are unique within a source.",
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                "Use letters, digits, dots, dashes and underscores.",
            )
        ],
    )
    mode = forms.ChoiceField(
        choices=UploadBatch.Mode.choices,
        initial=UploadBatch.Mode.GOOD_ROWS,
        widget=forms.RadioSelect,
    )


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
