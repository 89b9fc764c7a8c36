"""Forms of the training pages: start a run, edit the retraining schedule."""

from __future__ import annotations

from typing import Any

from django import forms

from training.labels import LABEL_SOURCES
from training.models import ExportSnapshot, RetrainSchedule, TrainingRun
from training.runs.head import HEAD_DEFAULTS
from training.runs.llm import LLM_DEFAULTS
from worker.models import ModelVersion

HEAD_FIELDS = ("folds", "steps", "min_support", "neighbours")
LLM_FIELDS = (
    "lora_r",
    "lora_alpha",
    "epochs",
    "batch_size",
    "max_length",
    "max_completion_length",
    "max_steps",
)

LLM_METHOD_NAMES = ("sft", "dpo", "kto", "grpo")
# The methods that read each field; a field not named reads for every method.
FIELD_METHODS: dict[str, tuple[str, ...]] = {
    **{name: ("head",) for name in (*HEAD_FIELDS, "labels")},
    **{name: LLM_METHOD_NAMES for name in (*LLM_FIELDS, "snapshot")},
}


class TrainingRunForm(forms.Form):
    method = forms.ChoiceField(choices=TrainingRun.Method.choices, initial="head")
    base_version = forms.ModelChoiceField(
        queryset=ModelVersion.objects.exclude(status=ModelVersion.Status.RETIRED),
        empty_label=None,
        help_text="head: an embedding version; sft/dpo/kto/grpo: an LLM version.",
    )
    snapshot = forms.ModelChoiceField(
        queryset=ExportSnapshot.objects.filter(status=ExportSnapshot.Status.DONE).exclude(
            kind=ExportSnapshot.Kind.AGREEMENT
        ),
        required=False,
        empty_label="Build one now from all reviews",
        label="Export snapshot (LLM methods)",
    )
    labels = forms.ChoiceField(
        choices=[(s, s.capitalize()) for s in LABEL_SOURCES],
        initial=HEAD_DEFAULTS["labels"],
        help_text="head: learn from coders' final codes, or from the notes' reference codes.",
    )
    learning_rate = forms.FloatField(
        min_value=1e-7,
        max_value=1.0,
        initial=HEAD_DEFAULTS["learning_rate"],
        help_text=f"head {HEAD_DEFAULTS['learning_rate']}, LoRA {LLM_DEFAULTS['learning_rate']}",
    )
    steps = forms.IntegerField(
        min_value=1,
        max_value=100_000,
        initial=HEAD_DEFAULTS["steps"],
        help_text="head: the ranker's boosting iterations",
    )
    folds = forms.IntegerField(
        min_value=2,
        max_value=20,
        initial=HEAD_DEFAULTS["folds"],
        help_text="head: cross-fitting folds (the ranker learns on notes the signals never saw)",
    )
    min_support = forms.IntegerField(
        min_value=1,
        max_value=1000,
        initial=HEAD_DEFAULTS["min_support"],
        help_text="head: notes a mined phrase needs before it evidences a code",
    )
    neighbours = forms.IntegerField(
        min_value=1,
        max_value=500,
        initial=HEAD_DEFAULTS["neighbours"],
        help_text="head: reviewed notes that vote for a note's codes",
    )
    lora_r = forms.IntegerField(
        min_value=1, max_value=512, initial=LLM_DEFAULTS["lora_r"], label="LoRA rank"
    )
    lora_alpha = forms.IntegerField(
        min_value=1, max_value=1024, initial=LLM_DEFAULTS["lora_alpha"], label="LoRA alpha"
    )
    epochs = forms.FloatField(min_value=0.01, max_value=100, initial=LLM_DEFAULTS["epochs"])
    batch_size = forms.IntegerField(min_value=1, max_value=1024, initial=LLM_DEFAULTS["batch_size"])
    max_length = forms.IntegerField(
        min_value=16,
        max_value=131_072,
        initial=LLM_DEFAULTS["max_length"],
        help_text="tokens of prompt and answer",
    )
    max_completion_length = forms.IntegerField(
        min_value=8,
        max_value=32_768,
        initial=LLM_DEFAULTS["max_completion_length"],
        help_text="GRPO: tokens a generation may take",
    )
    max_steps = forms.IntegerField(
        min_value=-1,
        max_value=1_000_000,
        initial=LLM_DEFAULTS["max_steps"],
        help_text="-1: as many as the epochs take",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        method, base = data.get("method"), data.get("base_version")
        if method and base is not None:
            head = method == TrainingRun.Method.HEAD
            if head != (base.backend == ModelVersion.Backend.EMBEDDING):
                need = "an embedding" if head else "an LLM (transformers or openai)"
                self.add_error("base_version", f"A {method} run needs {need} version.")
        snapshot = data.get("snapshot")
        if snapshot is not None and method and snapshot.kind != method:
            self.add_error("snapshot", f"A {method} run needs a {method} export.")
        return data

    def fields_with_methods(self) -> list[tuple[forms.BoundField, str]]:
        """Each field with the methods that read it, space-separated (empty
        for all): the page shows the chosen method's fields only."""
        return [(field, " ".join(FIELD_METHODS.get(field.name, ()))) for field in self]

    def hyperparameters(self) -> dict[str, Any]:
        data = self.cleaned_data
        names = HEAD_FIELDS if data["method"] == TrainingRun.Method.HEAD else LLM_FIELDS
        chosen = {name: data[name] for name in names if data.get(name) is not None}
        return {**chosen, "labels": data["labels"], "learning_rate": data["learning_rate"]}


class RetrainScheduleForm(forms.ModelForm[RetrainSchedule]):
    class Meta:
        model = RetrainSchedule
        fields = ["enabled", "min_new_reviews"]
        help_texts = {
            "min_new_reviews": "Start a head run when this many reviews were submitted since "
            "the last run."
        }
