"""An LLM run (``sft``, ``dpo``, ``kto``, ``grpo``): a LoRA adapter with trl.

The trainer comes from ``training.runs.trainers.trainer_build`` on the run's
export snapshot; this module adds the LoRA configuration, the run's
hyperparameters in trl's names, a callback that writes progress and stops
the trainer when the run is cancelled, and saves the adapter into the run's
folder, where the ``transformers`` backend (and vLLM's ``--lora-modules``)
loads it. A run from a version that has an adapter (a trained version's)
trains that adapter further rather than a new one on the bare base model:
so GRPO refines what SFT taught, and the new adapter still applies to the
same base model.

On a machine with CUDA the same run uses bf16 and gradient checkpointing
(the settings a 7B base with LoRA needs on one GPU); nothing to configure.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from training.models import ExportSnapshot, TrainingRun
from training.runs.progress import RunReporter

if TYPE_CHECKING:
    from peft import LoraConfig

# How long a run waits for its export being written by another worker.
SNAPSHOT_WAIT_S = 30 * 60

LLM_DEFAULTS: dict[str, Any] = {
    "lora_r": 16,
    "lora_alpha": 32,
    "lora_dropout": 0.05,
    "learning_rate": 2e-4,
    "epochs": 1,
    "batch_size": 4,
    "max_length": 2048,
    "max_completion_length": 256,
    "num_generations": 2,
    # -1: as many steps as the epochs take; a positive number caps them.
    "max_steps": -1,
    # SFT: the loss on the coder's answer alone, not on the note it repeats
    # (trl needs a chat template it knows, such as Qwen's, to find it).
    "assistant_only_loss": False,
}


def trl_settings(method: str, hyper: dict[str, Any], *, cuda: bool) -> dict[str, Any]:
    """The trl Config fields for ``method`` from a run's hyperparameters."""
    from trl.trainer.dpo_config import DPOConfig
    from trl.trainer.grpo_config import GRPOConfig
    from trl.trainer.kto_config import KTOConfig
    from trl.trainer.sft_config import SFTConfig

    values = {**LLM_DEFAULTS, **hyper}
    wanted: dict[str, Any] = {
        "learning_rate": float(values["learning_rate"]),
        "num_train_epochs": float(values["epochs"]),
        "per_device_train_batch_size": int(values["batch_size"]),
        "max_steps": int(values["max_steps"]),
        "max_length": int(values["max_length"]),
        "max_completion_length": int(values["max_completion_length"]),
        "num_generations": int(values["num_generations"]),
        "assistant_only_loss": bool(values["assistant_only_loss"]),
        "logging_steps": 1,
    }
    if method == "grpo":
        # GRPO needs the batch to hold whole groups of generations.
        groups = max(1, wanted["per_device_train_batch_size"] // wanted["num_generations"])
        wanted["per_device_train_batch_size"] = groups * wanted["num_generations"]
    if cuda:
        wanted.update({"bf16": True, "gradient_checkpointing": True})
    config = {"sft": SFTConfig, "dpo": DPOConfig, "kto": KTOConfig, "grpo": GRPOConfig}[method]
    known = {field.name for field in dataclasses.fields(config)}
    return {name: value for name, value in wanted.items() if name in known}


def llm_run_train(run: TrainingRun, folder: Path, reporter: RunReporter) -> str:
    """Train a LoRA adapter on the run's snapshot; returns the adapter folder."""
    import torch

    from training.runs.trainers import trainer_build

    dataset = _written_snapshot(run, reporter)
    hyper = {**LLM_DEFAULTS, **run.hyperparameters}
    parent = run.base_version.adapter_path
    lora = None if parent else _new_lora(hyper)
    settings = trl_settings(run.method, hyper, cuda=torch.cuda.is_available())
    start = (
        f"the adapter of {run.base_version.name}" if parent else f"a new LoRA r={hyper['lora_r']}"
    )
    reporter.log(f"{run.method.upper()} on {dataset}, training {start}: {settings}")
    trainer = trainer_build(
        run.method,  # type: ignore[arg-type]  # checked by the form and the model
        run.base_version.base_model,
        dataset,
        folder / "trainer",
        peft_config=lora,
        adapter_path=parent or None,
        **settings,
    )
    trainer.add_callback(_progress_callback(reporter))
    trainer.train()
    adapter = folder / "adapter"
    model: Any = trainer.model  # a PeftModel: saves the adapter alone
    # GRPO may add a frozen "ref" copy of a trained adapter; only the one
    # trained here is the version's.
    model.save_pretrained(str(adapter), selected_adapters=["default"])
    reporter.log(f"Adapter saved to {adapter}")
    return str(adapter)


def _new_lora(hyper: dict[str, Any]) -> LoraConfig:
    from peft import LoraConfig

    return LoraConfig(
        r=int(hyper["lora_r"]),
        lora_alpha=int(hyper["lora_alpha"]),
        lora_dropout=float(hyper["lora_dropout"]),
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )


def _written_snapshot(run: TrainingRun, reporter: RunReporter) -> Path:
    """The run's export, written now if its task has not done it yet."""
    from training.exports.services import export_snapshot_write

    if run.snapshot is None:
        raise ValueError("An LLM run needs an export snapshot to train on")
    deadline = time.monotonic() + SNAPSHOT_WAIT_S
    snapshot = export_snapshot_write(snapshot_id=run.snapshot.pk)
    while snapshot.status == ExportSnapshot.Status.RUNNING and time.monotonic() < deadline:
        reporter.flush()  # a cancel while waiting stops the wait
        time.sleep(2)
        snapshot.refresh_from_db()
    if snapshot.status != ExportSnapshot.Status.DONE or snapshot.path is None:
        raise ValueError(f"Export {snapshot.pk} is {snapshot.status}: {snapshot.error}")
    return snapshot.path


def _progress_callback(reporter: RunReporter) -> Any:
    from transformers import TrainerCallback

    class ProgressCallback(TrainerCallback):
        """Writes each logged step; a cancel raises out of ``train()``."""

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **_: Any) -> None:
            logs = logs or {}
            if "loss" not in logs and "reward" not in logs:
                return
            reporter.step(
                int(state.global_step),
                int(state.max_steps),
                loss=logs.get("loss"),
                lr=logs.get("learning_rate"),
                reward=logs.get("reward"),
            )

    return ProgressCallback()
