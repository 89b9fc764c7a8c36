"""trl trainers built on an export snapshot: one entry point for every method.

Public API (training runs and the export tests both use it)::

    trainer_build(
        method: "sft" | "dpo" | "kto" | "grpo",
        model_dir: str | Path,          # a Hugging Face model folder (offline)
        dataset_path: str | Path,       # an export folder, or one JSONL file
        output_dir: str | Path,         # where the trainer may write
        *,
        peft_config: peft.PeftConfig | None = None,   # LoRA, say
        adapter_path: str | Path | None = None,       # a LoRA adapter to train on
        reward_funcs: list[Callable] | None = None,   # GRPO only
        **hyper,                        # any field of the method's trl Config
    ) -> transformers.Trainer

    dataset_files(dataset_path) -> dict[str, str]   # {"train": ..., "validation": ...}
    training_dataset(dataset_path) -> datasets.DatasetDict

``dataset_path`` as an export folder (``ExportSnapshot.path``) loads its
``train.jsonl`` as the training set and its ``validation.jsonl``, when it has
rows, as the evaluation set. The formats are those of ``training.exports``:
trl's conversational ``messages`` (SFT), ``prompt``/``chosen``/``rejected``
(DPO), ``prompt``/``completion``/``label`` (KTO), ``prompt`` plus
``gold_codes`` (GRPO). GRPO's reward defaults to the product's ICD-10-CM
reward (``coding_app.codes.reward.reward``, which reads ``gold_codes``).

``adapter_path`` names a saved LoRA adapter of ``model_dir`` (a trained
version's): the trainer goes on training that adapter, with its own
configuration, instead of a new one, so an SFT version can be refined by
GRPO. It excludes ``peft_config``.

Defaults in ``hyper`` that differ from trl's: ``report_to=[]`` (nothing
phones home), ``save_strategy="no"`` (the caller decides what to keep),
``use_cpu`` when no CUDA device is present, and for GRPO small generation
settings (two generations of 64 tokens) that a caller raises for real runs.
Every other field is trl's default; pass any Config field to change it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from datasets import DatasetDict
    from transformers import Trainer

Method = Literal["sft", "dpo", "kto", "grpo"]
METHODS: tuple[Method, ...] = ("sft", "dpo", "kto", "grpo")

TRAIN_FILE = "train.jsonl"
VALIDATION_FILE = "validation.jsonl"

_GRPO_DEFAULTS: dict[str, Any] = {
    "num_generations": 2,
    "per_device_train_batch_size": 2,
    "max_completion_length": 64,
}


class TrainerSetupError(ValueError):
    """The method, the model folder or the dataset cannot make a trainer."""


def dataset_files(dataset_path: str | Path) -> dict[str, str]:
    """The JSONL files to train and evaluate on, by split name.

    A folder gives its ``train.jsonl`` and, if it has any rows, its
    ``validation.jsonl``; a file is the training set alone.
    """
    path = Path(dataset_path)
    if path.is_file():
        return {"train": str(path)}
    train = path / TRAIN_FILE
    if not train.is_file():
        raise TrainerSetupError(f"{path} is neither a JSONL file nor an export with {TRAIN_FILE}")
    if train.stat().st_size == 0:
        raise TrainerSetupError(f"{train} has no rows to train on")
    files = {"train": str(train)}
    validation = path / VALIDATION_FILE
    if validation.is_file() and validation.stat().st_size > 0:
        files["validation"] = str(validation)
    return files


# Export columns for people and audits that no trainer reads. They are
# dropped before ``datasets`` sees the rows: it guesses a column's type from
# the first rows, and a list that is empty there and full further down (a
# coder's evidence, a pair's hard negatives) fails the whole load.
BOOKKEEPING_COLUMNS = ("evidence", "metadata")


def training_dataset(dataset_path: str | Path) -> DatasetDict:
    """The export as trl's trainers take it, without its bookkeeping columns."""
    from datasets import Dataset, DatasetDict

    splits = {}
    for split, name in dataset_files(dataset_path).items():
        with open(name, encoding="utf-8") as rows:
            records = [json.loads(line) for line in rows if line.strip()]
        for record in records:
            for column in BOOKKEEPING_COLUMNS:
                record.pop(column, None)
        splits[split] = Dataset.from_list(records)
    return DatasetDict(splits)


def trainer_build(
    method: Method,
    model_dir: str | Path,
    dataset_path: str | Path,
    output_dir: str | Path,
    *,
    peft_config: Any = None,
    adapter_path: str | Path | None = None,
    reward_funcs: list[Callable[..., list[float]]] | None = None,
    **hyper: Any,
) -> Trainer:
    """A ready trl trainer for ``method``; call ``.train()`` on it."""
    model_path = _checked_model_path(method, model_dir, reward_funcs)
    adapter = _checked_adapter_path(adapter_path, peft_config)
    data = training_dataset(dataset_path)
    args = _config(method, output_dir, hyper)
    model, tokenizer = _model_and_tokenizer(model_path, adapter)
    common: dict[str, Any] = {
        "model": model,
        "args": args,
        "train_dataset": data["train"],
        "eval_dataset": data.get("validation"),
        "processing_class": tokenizer,
        "peft_config": peft_config,
    }
    return _trainer(method, common, reward_funcs)


def _checked_model_path(
    method: Method,
    model_dir: str | Path,
    reward_funcs: list[Callable[..., list[float]]] | None,
) -> Path:
    """The model folder, once the method, the folder and the rewards make
    sense together; raises ``TrainerSetupError`` before anything loads."""
    if method not in METHODS:
        raise TrainerSetupError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    model_path = Path(model_dir)
    if not (model_path / "config.json").is_file():
        raise TrainerSetupError(f"{model_path} is not a model folder (no config.json)")
    if reward_funcs is not None and method != "grpo":
        raise TrainerSetupError(f"reward_funcs apply to GRPO only, not to {method}")
    return model_path


def _checked_adapter_path(adapter_path: str | Path | None, peft_config: Any) -> Path | None:
    """The adapter folder to train on, if any; raises ``TrainerSetupError``
    when it is no adapter or comes with a new ``peft_config`` too."""
    if adapter_path is None or not str(adapter_path):
        return None
    adapter = Path(adapter_path)
    if not (adapter / "adapter_config.json").is_file():
        raise TrainerSetupError(f"{adapter} is not a LoRA adapter (no adapter_config.json)")
    if peft_config is not None:
        raise TrainerSetupError(
            f"pass either peft_config (a new adapter) or adapter_path ({adapter}), not both"
        )
    return adapter


def _trainer(
    method: Method,
    common: dict[str, Any],
    reward_funcs: list[Callable[..., list[float]]] | None,
) -> Trainer:
    """The trl trainer class of ``method`` on the shared arguments; GRPO
    scores with ``reward_funcs``, by default the product's reward."""
    if method == "sft":
        from trl.trainer.sft_trainer import SFTTrainer

        return SFTTrainer(**common)
    if method == "dpo":
        from trl.trainer.dpo_trainer import DPOTrainer

        return DPOTrainer(**common)
    if method == "kto":
        from trl.trainer.kto_trainer import KTOTrainer

        return KTOTrainer(**common)
    from trl.trainer.grpo_trainer import GRPOTrainer

    from coding_app.codes.reward import reward

    # trl types a reward as returning optional floats; ours never skip one.
    rewards: Any = reward_funcs or [reward]
    return GRPOTrainer(reward_funcs=rewards, **common)


def _config(method: Method, output_dir: str | Path, hyper: dict[str, Any]) -> Any:
    import torch
    from trl.trainer.dpo_config import DPOConfig
    from trl.trainer.grpo_config import GRPOConfig
    from trl.trainer.kto_config import KTOConfig
    from trl.trainer.sft_config import SFTConfig

    config_class = {
        "sft": SFTConfig,
        "dpo": DPOConfig,
        "kto": KTOConfig,
        "grpo": GRPOConfig,
    }[method]
    defaults: dict[str, Any] = {
        "report_to": [],
        "save_strategy": "no",
        "use_cpu": not torch.cuda.is_available(),
        "eval_strategy": "no",
    }
    if method == "grpo":
        defaults.update(_GRPO_DEFAULTS)
    try:
        return config_class(output_dir=str(output_dir), **{**defaults, **hyper})
    except TypeError as error:
        raise TrainerSetupError(f"bad setting for {method}: {error}") from error


def _model_and_tokenizer(model_path: Path, adapter: Path | None) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_path)
    if adapter is None:
        return model, tokenizer
    from peft import PeftModel

    return PeftModel.from_pretrained(model, str(adapter), is_trainable=True), tokenizer
