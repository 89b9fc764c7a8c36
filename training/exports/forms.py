"""The admin's form for a new export; the service checks the filters again."""

from __future__ import annotations

from typing import Any

from django import forms

from coding_app.accounts.roles import Role, users_with_role
from coding_app.models import User
from training.models import ExportSnapshot
from worker.models import ModelVersion


class CoderChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: User) -> str:
        return obj.email


class ExportForm(forms.Form):
    kind = forms.ChoiceField(choices=ExportSnapshot.Kind.choices)
    date_from = forms.DateField(required=False, help_text="Reviews submitted on or after.")
    date_to = forms.DateField(required=False, help_text="Reviews submitted on or before.")
    model_version = forms.ModelChoiceField(
        queryset=ModelVersion.objects.order_by("-created_at"),
        required=False,
        empty_label="Every model version",
    )
    coders = CoderChoiceField(queryset=User.objects.none(), required=False)
    chapters = forms.CharField(
        required=False, help_text="Chapter numbers, comma-separated (4, 9); empty for all."
    )
    double_coded_only = forms.BooleanField(required=False)
    agreement_only = forms.BooleanField(
        required=False, help_text="Only double-coded notes where the coders agree."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["coders"].queryset = users_with_role(Role.CODER)  # type: ignore[attr-defined]

    def filters(self) -> dict[str, Any]:
        """The cleaned form as the service's filters JSON."""
        data = self.cleaned_data
        chapters = [part.strip() for part in data["chapters"].split(",") if part.strip()]
        return {
            "date_from": data["date_from"].isoformat() if data["date_from"] else None,
            "date_to": data["date_to"].isoformat() if data["date_to"] else None,
            "model_version": data["model_version"].pk if data["model_version"] else None,
            "coders": [user.pk for user in data["coders"]],
            "chapters": chapters,
            "double_coded_only": data["double_coded_only"],
            "agreement_only": data["agreement_only"],
        }
