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

import importlib.util
import json
import os
import random
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coding_app.codes.entry import CodeEntry

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedTokenizerBase, Qwen2ForCausalLM

ENDOFTEXT = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
# The answer's tags get a token each, as Qwen3 does for <think>: the model
# then learns the layout in a few steps, and decoding keeps them as text.
TAG_TOKENS = ("<think>", "</think>", "<diagnosis>", "</diagnosis>")
VOCAB_SIZE = 4096
MAX_POSITIONS = 8192

# Measured on one CPU core: 100 steps take about 8 s, after which greedy
# answers to the real prompt are in the tag format; 60 are not enough.
TRAIN_STEPS = 100
_BATCH_SIZE = 8
_LEARNING_RATE = 6e-3
_CODE_POOL = 12
_EXAMPLES = 96
_NOTE_SENTENCES = (
    "Assessment: {d}.",
    "The patient is seen today for {d}.",
    "History of {d}, stable on current treatment.",
    "Plan: continue management of {d}.",
)
_REASONING = (
    "The assessment documents each condition.",
    "The note states the diagnoses in the plan.",
)


class TinyModelError(Exception):
    """The model cannot be built there: the folder is not a folder, not
    empty or not writable, or trl's chat template is missing."""


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
                loss = _teach_answer_format(model, tokenizer, entries, steps=train_steps, seed=seed)
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


def tiny_tokenizer(entries: Sequence[CodeEntry]) -> PreTrainedTokenizerBase:
    """A byte-level BPE tokenizer trained on the release's words and codes.

    It is trained with Qwen2's own normalizer and pre-tokenizer and handed to
    ``Qwen2Tokenizer``, the class ``AutoTokenizer`` rebuilds for a ``qwen2``
    model: training and every later load then split text the same way.
    """
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        models,
        normalizers,
        pre_tokenizers,
        trainers,
    )
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX, Qwen2Tokenizer

    bpe = Tokenizer(models.BPE())
    bpe.normalizer = normalizers.NFC()
    bpe.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=[ENDOFTEXT, IM_START, IM_END],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(_corpus(entries), trainer)
    trained = json.loads(bpe.to_str())["model"]
    # The tokenizers library wants each merge as a pair; Qwen2Tokenizer's
    # annotation says strings, which the library refuses.
    merges: Any = [tuple(pair) for pair in trained["merges"]]
    tokenizer = Qwen2Tokenizer(
        vocab=trained["vocab"],
        merges=merges,
        eos_token=IM_END,
        pad_token=ENDOFTEXT,
        model_max_length=MAX_POSITIONS,
        clean_up_tokenization_spaces=False,
    )
    tokenizer.add_tokens([AddedToken(t, special=True) for t in (ENDOFTEXT, IM_START, IM_END)])
    tokenizer.add_tokens([AddedToken(t, special=False) for t in TAG_TOKENS])
    tokenizer.chat_template = qwen_chat_template()
    return tokenizer


def _corpus(entries: Sequence[CodeEntry]) -> list[str]:
    # In the release's order, the same every time: the build must be
    # reproducible (checked across processes too).
    lines = [f"{e.dotted} {e.code} {e.description}" for e in entries]
    lines.extend(term for e in entries for term in e.inclusion_terms)
    lines.append(" ".join(TAG_TOKENS))
    return lines


def qwen_chat_template() -> str:
    """Qwen2.5's chat template, read from trl's copy so trl recognises it."""
    spec = importlib.util.find_spec("trl")
    if spec is None or not spec.submodule_search_locations:
        raise TinyModelError("trl is not installed; it holds the Qwen2.5 chat template")
    path = Path(next(iter(spec.submodule_search_locations))) / "chat_templates" / "qwen2_5.jinja"
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise TinyModelError(f"cannot read the Qwen2.5 chat template at {path}: {error}") from error


def _tiny_model(tokenizer: PreTrainedTokenizerBase) -> Qwen2ForCausalLM:
    from transformers import Qwen2Config, Qwen2ForCausalLM

    end_of_turn = _token_id(tokenizer, IM_END)
    pad = _token_id(tokenizer, ENDOFTEXT)
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


def _token_id(tokenizer: PreTrainedTokenizerBase, token: str) -> int:
    found = tokenizer.convert_tokens_to_ids(token)
    if not isinstance(found, int):
        raise TypeError(f"{token} has no single id: {found!r}")
    return found


def _rendered(
    tokenizer: PreTrainedTokenizerBase,
    messages: list[dict[str, str]],
    *,
    add_generation_prompt: bool = False,
) -> str:
    text = tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=add_generation_prompt
    )
    if not isinstance(text, str):
        raise TypeError(f"the chat template rendered {type(text).__name__}, not text")
    return text


# --- teaching the answer's layout --------------------------------------------


def _teach_answer_format(
    model: Qwen2ForCausalLM,
    tokenizer: PreTrainedTokenizerBase,
    entries: Sequence[CodeEntry],
    *,
    steps: int,
    seed: int,
) -> float:
    """Train on synthetic notes, loss on the answer only; the last loss.

    Every prompt opens with the same instructions, some 500 tokens, several
    times the note and answer. They are run once a step without gradients
    and their keys and values shared by the whole batch, so a step costs
    what the notes cost, and the model still learns with the real prompt.
    The vocabulary projection, the other big cost, runs on answer tokens only.
    """
    import torch

    instructions, examples = _examples(tokenizer, entries, seed)
    prefix = torch.tensor([instructions])
    order = random.Random(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=_LEARNING_RATE)
    model.train()
    loss = torch.tensor(0.0)
    for _ in range(steps):
        with torch.no_grad():
            cache = model(input_ids=prefix, use_cache=True).past_key_values
        cache.batch_repeat_interleave(_BATCH_SIZE)
        ids, mask, answer = _padded(order.sample(examples, _BATCH_SIZE), tokenizer.pad_token_id)
        seen = torch.ones(_BATCH_SIZE, prefix.shape[1], dtype=torch.long)
        hidden = model.model(
            input_ids=ids, attention_mask=torch.cat([seen, mask], dim=1), past_key_values=cache
        ).last_hidden_state
        # The state at position i predicts the token at i + 1.
        predicts = answer[:, 1:]
        logits = model.lm_head(hidden[:, :-1][predicts])
        loss = torch.nn.functional.cross_entropy(logits, ids[:, 1:][predicts])
        torch.autograd.backward(loss)
        optimizer.step()
        optimizer.zero_grad()
    return float(loss.item())


# (prompt ids, answer ids): the prompt after the instructions, the answer
# as the model must write it, up to its end-of-turn token.
_Example = tuple[list[int], list[int]]


def _examples(
    tokenizer: PreTrainedTokenizerBase, entries: Sequence[CodeEntry], seed: int
) -> tuple[list[int], list[_Example]]:
    """The instructions' ids, and the notes with their answers."""
    from worker.backends.llm.prompts import assistant_output, prompt_messages

    rng = random.Random(seed)
    # A small pool of codes: the model memorises a few real ones, so its
    # answers are often valid codes rather than code-shaped noise.
    billable = sorted((e for e in entries if e.billable and len(e.code) <= 4), key=lambda e: e.code)
    pool = rng.sample(billable, _CODE_POOL)
    system = prompt_messages("a note")[:1]
    # Special tokens split the text, so the instructions' ids followed by
    # the rest's ids are exactly the ids of the whole prompt.
    head = _rendered(tokenizer, system)
    examples = []
    for _ in range(_EXAMPLES):
        chosen = rng.sample(pool, rng.randint(1, 3))
        sentences = [rng.choice(_NOTE_SENTENCES).format(d=e.description.lower()) for e in chosen]
        prompt = _rendered(
            tokenizer, prompt_messages(" ".join(sentences)), add_generation_prompt=True
        )
        if not prompt.startswith(head):
            raise TinyModelError("the chat template does not open with the system message")
        answer = assistant_output([e.dotted for e in chosen], rng.choice(_REASONING)) + IM_END
        examples.append((tokenizer.encode(prompt[len(head) :]), tokenizer.encode(answer)))
    return tokenizer.encode(head), examples


def _padded(
    examples: list[_Example], pad_id: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-padded ids, their attention mask, and where the answers are."""
    import torch

    length = max(len(prompt) + len(answer) for prompt, answer in examples)
    ids, mask, answers = [], [], []
    for prompt, answer in examples:
        padding = length - len(prompt) - len(answer)
        ids.append(prompt + answer + [pad_id] * padding)
        mask.append([1] * (len(prompt) + len(answer)) + [0] * padding)
        answers.append([False] * len(prompt) + [True] * len(answer) + [False] * padding)
    return torch.tensor(ids), torch.tensor(mask), torch.tensor(answers)
