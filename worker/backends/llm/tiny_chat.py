"""The tiny model's tokenizer and chat template.

A byte-level BPE tokenizer trained on the packaged release's words and
codes, with Qwen2's normalizer and pre-tokenizer, and Qwen2.5's chat template
(trl's copy, byte for byte; ``tiny_model`` says why).
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coding_app.codes.entry import CodeEntry

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

ENDOFTEXT = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
# The answer's tags get a token each, as Qwen3 does for <think>: the model
# then learns the layout in a few steps, and decoding keeps them as text.
TAG_TOKENS = ("<think>", "</think>", "<diagnosis>", "</diagnosis>")
VOCAB_SIZE = 4096
MAX_POSITIONS = 8192


class TinyModelError(Exception):
    """The model cannot be built there: the folder is not a folder, not
    empty or not writable, or trl's chat template is missing."""


def tiny_tokenizer(entries: Sequence[CodeEntry]) -> PreTrainedTokenizerBase:
    """A byte-level BPE tokenizer trained on the release's words and codes.

    It is trained with Qwen2's own normalizer and pre-tokenizer and handed to
    ``Qwen2Tokenizer``, the class ``AutoTokenizer`` rebuilds for a ``qwen2``
    model: training and every later load then split text the same way.
    """
    from tokenizers import AddedToken
    from transformers.models.qwen2.tokenization_qwen2 import Qwen2Tokenizer

    trained = _trained_bpe(entries)
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


def _trained_bpe(entries: Sequence[CodeEntry]) -> dict[str, Any]:
    """The BPE model (``vocab`` and ``merges``) trained with Qwen2's
    normalizer and pre-tokenizer on the release's words and codes."""
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

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
    trained: dict[str, Any] = json.loads(bpe.to_str())["model"]
    return trained


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


def token_id(tokenizer: PreTrainedTokenizerBase, token: str) -> int:
    found = tokenizer.convert_tokens_to_ids(token)
    if not isinstance(found, int):
        raise TypeError(f"{token} has no single id: {found!r}")
    return found


def rendered_chat(
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
