"""LLM runs (SFT, DPO, KTO, GRPO) on the tiny local model: a few LoRA steps
each, an adapter the ``transformers`` backend loads and predicts with."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from coding_app.accounts.roles import Role
from coding_app.models import User
from tests.training.export_support import note_in, review_make
from training.models import ExportSnapshot, TrainingRun
from training.runs.llm import trl_settings
from training.runs.services import training_run_create, training_run_execute
from training.splits import Split
from worker.backends.base import NoteText
from worker.backends.loading import backend_for
from worker.models import ModelVersion

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("model_dir", "storage")]

TINY = {
    "max_steps": 2,
    "batch_size": 2,
    "lora_r": 4,
    "lora_alpha": 8,
    "max_length": 1024,
    "max_completion_length": 16,
    "num_generations": 2,
    "labels": "reviews",
}


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    """Reviews to export (a replaced code, an added one, one accepted); the admin."""
    coder = make_user(Role.CODER)
    sibling = note_in(Split.TRAIN, codes=("E1169", "I10"), prefix="r-sib")
    review_make(sibling, coder, {"E1169": ("replace", "E1165")}, comment="Hyperglycemia.")
    added = note_in(Split.TRAIN, codes=("E1165",), prefix="r-add")
    review_make(added, coder, added=["I10"])
    review_make(note_in(Split.TRAIN, prefix="r-acc"), coder)
    return make_user(Role.ADMIN)


@pytest.mark.parametrize("method", ["sft", "dpo", "kto", "grpo"])
def test_an_llm_run_trains_a_lora_adapter_that_the_transformers_backend_uses(
    method: str, admin: User, tiny_llm_dir: Path, model_dir: Path
) -> None:
    base = ModelVersion.objects.create(
        name="tiny",
        backend="transformers",
        base_model=str(tiny_llm_dir),
        options={"max_new_tokens": 8},
    )
    # No snapshot chosen: "build one now from all reviews".
    run = training_run_create(
        method=method, base_version=base, hyperparameters=TINY, created_by=admin, enqueue=False
    )
    assert run.snapshot is not None
    assert run.snapshot.kind == method

    training_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == TrainingRun.Status.DONE, run.error + run.log
    assert run.snapshot is not None
    assert run.snapshot.status == ExportSnapshot.Status.DONE
    assert run.progress["step"] == 2
    assert run.progress["history"]
    version = run.produced_version
    assert version is not None
    adapter = Path(version.adapter_path)
    assert adapter.is_relative_to(model_dir / "runs" / str(run.pk))
    assert (adapter / "adapter_config.json").is_file()
    assert version.backend == "transformers"
    assert version.parent == base
    # No reviewed held-out notes yet: evaluated on nothing, so an admin decides.
    assert run.evaluation.notes == 0
    assert version.status == ModelVersion.Status.CANDIDATE
    (prediction,) = backend_for(version).predict([NoteText(1, "Type 2 diabetes, on insulin.")])
    assert prediction.raw_output


def test_on_a_gpu_the_same_run_uses_bf16_and_gradient_checkpointing() -> None:
    on_gpu = trl_settings("sft", {}, cuda=True)
    on_cpu = trl_settings("sft", {}, cuda=False)
    assert on_gpu["bf16"] is True
    assert on_gpu["gradient_checkpointing"] is True
    assert "bf16" not in on_cpu
    # GRPO's batch always holds whole groups of generations.
    grpo = trl_settings("grpo", {"batch_size": 5, "num_generations": 4}, cuda=False)
    assert grpo["per_device_train_batch_size"] == 4
    assert "max_length" not in grpo


def test_a_run_from_a_trained_version_trains_its_adapter_further(
    admin: User, tiny_llm_dir: Path, tiny_adapter_dir: Path
) -> None:
    """GRPO after SFT refines what SFT taught: the run starts from the base
    version's adapter (its rank, not the run's lora_r), not the bare model."""
    trained = ModelVersion.objects.create(
        name="tiny-sft",
        backend="transformers",
        base_model=str(tiny_llm_dir),
        adapter_path=str(tiny_adapter_dir),
        options={"max_new_tokens": 8},
    )
    run = training_run_create(
        method="sft",
        base_version=trained,
        hyperparameters={**TINY, "lora_r": 8, "assistant_only_loss": True},
        created_by=admin,
        enqueue=False,
    )

    training_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == TrainingRun.Status.DONE, run.error + run.log
    assert "training the adapter of tiny-sft" in run.log
    version = run.produced_version
    assert version is not None
    assert version.base_model == str(tiny_llm_dir)
    config = json.loads((Path(version.adapter_path) / "adapter_config.json").read_text())
    assert config["r"] == 4
    (prediction,) = backend_for(version).predict([NoteText(1, "Type 2 diabetes, on insulin.")])
    assert prediction.raw_output


def test_only_sft_takes_the_answer_only_loss() -> None:
    assert trl_settings("sft", {"assistant_only_loss": True}, cuda=False)["assistant_only_loss"]
    assert not trl_settings("sft", {}, cuda=False)["assistant_only_loss"]
    assert "assistant_only_loss" not in trl_settings(
        "grpo", {"assistant_only_loss": True}, cuda=False
    )
