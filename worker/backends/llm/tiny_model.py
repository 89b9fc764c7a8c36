"""A tiny Qwen2-style chat model, built offline in seconds.

Tests and demos need a real causal LM behind the ``transformers`` and
``openai`` backends, trl's trainers and ``transformers serve``, and nothing
can be downloaded. So we make one: a byte-level BPE tokenizer trained on the
code descriptions of the packaged ICD-10-CM release, a two-layer Qwen2 model
and Qwen2.5's chat template, saved as an ordinary Hugging Face folder.

The chat template is trl's copy of Qwen2.5's, byte for byte: trl recognises
it by equality (to swap in its training variant for assistant-only loss and
to attach a response parser), and ``transformers serve`` reads the reply of
any ``qwen2`` model with the Qwen parser that splits ``<think>`` off.

A hundred steps of training on synthetic notes teach the model the answer's
layout, so its greedy output is usually in the tag format, often with a real
code in it; what it says is noise, and where the layout slips the parser's
problem path gets exercised too.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from coding_app.codes.entry import CodeEntry
from worker.backends.llm.tiny_chat import (
    ENDOFTEXT,
    IM_END,
    MAX_POSITIONS,
    TinyModelError,
    tiny_tokenizer,
    token_id,
)
from worker.backends.llm.tiny_training import TRAIN_STEPS, teach_answer_format

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase, Qwen2ForCausalLM


@dataclass(frozen=True)
class TinyModelSummary:
    """What was built, for a person to read."""

    directory: Path
    parameters: int
    vocab_size: int
    train_steps: int
    final_loss: float | None


def build_tiny_llm(
    directory: Path, *, seed: int = 0, force: bool = False, train_steps: int = TRAIN_STEPS
) -> Path:
    """Build the model into ``directory`` and return it.

    The same seed gives the same files with the same library versions.
    Refuses a non-empty folder unless ``force``, which overwrites the
    model's files and leaves any others alone. Takes some 15 s on a CPU,
    or 5 s with ``train_steps=0`` (random weights).
    """
    return build_tiny_llm_summary(
        directory, seed=seed, force=force, train_steps=train_steps
    ).directory


def build_tiny_llm_summary(
    directory: Path, *, seed: int = 0, force: bool = False, train_steps: int = TRAIN_STEPS
) -> TinyModelSummary:
    """``build_tiny_llm`` with what was built, for the command to print."""
    if train_steps < 0:
        raise ValueError(f"train_steps must be 0 or more, not {train_steps}")
    check_target_directory(directory, force=force)
    import torch

    entries = _packaged_entries()
    tokenizer = tiny_tokenizer(entries)
    # A private random state, so the caller's seeding stays untouched; one
    # thread, so float sums add up in the same order on every machine (and
    # a busy CPU is not made busier by threads waiting on each other).
    threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        try:
            torch.set_num_threads(1)
            torch.manual_seed(seed)
            model = _tiny_model(tokenizer)
            loss = None
            if train_steps:
                loss = teach_answer_format(model, tokenizer, entries, steps=train_steps, seed=seed)
        finally:
            torch.set_num_threads(threads)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return TinyModelSummary(
        directory=directory,
        parameters=sum(p.numel() for p in model.parameters()),
        vocab_size=len(tokenizer),
        train_steps=train_steps,
        final_loss=loss,
    )


@lru_cache(maxsize=1)
def _packaged_entries() -> tuple[CodeEntry, ...]:
    # Reading the release takes seconds; a test session builds several models.
    from coding_app.codes.release import read_release

    return tuple(read_release().entries)


def check_target_directory(directory: Path, *, force: bool) -> None:
    """Raise TinyModelError unless ``directory`` can be (over)written."""
    if directory.exists() and not directory.is_dir():
        raise TinyModelError(f"{directory} exists and is not a folder")
    if directory.is_dir():
        if any(directory.iterdir()) and not force:
            raise TinyModelError(
                f"{directory} is not empty; pass --force to overwrite the model files in it"
            )
        writable_at = directory
    else:
        writable_at = _nearest_existing_parent(directory)
        if not writable_at.is_dir():
            raise TinyModelError(f"{directory} cannot be created: {writable_at} is not a folder")
    if not _is_writable(writable_at):
        raise TinyModelError(f"{directory} cannot be written: {writable_at} is not writable")


def _nearest_existing_parent(directory: Path) -> Path:
    path = directory.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _is_writable(folder: Path) -> bool:
    # os.access answers yes to root even on a read-only mount; a real file
    # says the truth.
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _tiny_model(tokenizer: PreTrainedTokenizerBase) -> Qwen2ForCausalLM:
    from transformers import Qwen2Config, Qwen2ForCausalLM

    end_of_turn = token_id(tokenizer, IM_END)
    pad = token_id(tokenizer, ENDOFTEXT)
    # Large enough to learn the layout quickly, small enough that a CPU
    # builds, serves and fine-tunes it in seconds.
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=MAX_POSITIONS,
        tie_word_embeddings=True,
        eos_token_id=end_of_turn,
        pad_token_id=pad,
        bos_token_id=None,
    )
    model = Qwen2ForCausalLM(config)
    # As Qwen2.5-Instruct: a turn ends at <|im_end|>, a text at <|endoftext|>.
    model.generation_config.eos_token_id = [end_of_turn, pad]
    model.generation_config.pad_token_id = pad
    model.generation_config.do_sample = False
    return model
