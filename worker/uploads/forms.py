"""The upload form: a notes file, its source and how bad rows are handled."""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator

from worker.models import UploadBatch


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
