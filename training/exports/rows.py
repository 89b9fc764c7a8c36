"""One review in, the training rows of each kind out (trl's formats).

The prompt is the one inference uses (``worker.backends.llm.prompts``): the system
and user messages of the prediction's prompt version, or of the current
version when the prediction came from a backend without one (the embedding
model), since that is what a model trained on the row will be asked.

The reasoning in the coder's answer (``<think>``):

- the model's own reasoning when the coder accepted the whole prediction
  unchanged: then it led to the right codes;
- otherwise the coder's review comment, when there is one, as the only
  reasoning a person stood behind;
- otherwise nothing (an empty ``<think>`` block): the model's reasoning led
  to codes the coder changed, and is never presented as right.

``metadata.reasoning_source`` says which (``model``, ``coder_comment`` or
``none``). Codes are written dotted (``E11.65``), one a line, as the model
is asked to write them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from coding_app.codes.forms import code_key, dotted
from coding_app.codes.hierarchy import Relation
from training.exports.source import ReviewRecord
from worker.backends.llm.output import FORMAT_TAG
from worker.backends.llm.prompts import (
    PROMPT_VERSION,
    assistant_output,
    prompt_messages,
    prompt_versions,
)

Row = dict[str, Any]

# How the model's code stands to the coder's replacement when the model
# made the classic near miss: a sibling, or a less specific code.
HARD_NEGATIVE_RELATIONS = {
    str(Relation.SIBLING): "sibling",
    str(Relation.ANCESTOR): "less_specific",
}


def prompt_for(record: ReviewRecord) -> list[dict[str, str]]:
    known = record.prompt_version in prompt_versions()
    return prompt_messages(record.note_text, record.prompt_version if known else PROMPT_VERSION)


def reasoning_source(record: ReviewRecord) -> str:
    if record.unchanged:
        return "model"
    return "coder_comment" if _clean(record.comment) else "none"


def coder_output(record: ReviewRecord) -> str:
    """The coder's final codes as the model should have written them."""
    source = reasoning_source(record)
    reasoning = {"model": record.reasoning, "coder_comment": record.comment}.get(source, "")
    return assistant_output(record.final, _clean(reasoning))


def model_output(record: ReviewRecord) -> str:
    """What the model said, in the canonical layout (unreadable codes left out)."""
    codes = [key for code in record.suggested if (key := code_key(code)) is not None]
    return assistant_output(codes, _clean(record.reasoning))


def _clean(text: str) -> str:
    # A tag inside the reasoning would end the block early when parsed.
    return FORMAT_TAG.sub("", text or "").strip()


def _assistant(content: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": content}]


def _metadata(record: ReviewRecord, **extra: Any) -> dict[str, Any]:
    return {
        "note_id": record.note_id,
        "review_id": record.review_id,
        "model_version_id": record.model_version_id,
        **extra,
    }


def coder_evidence(record: ReviewRecord) -> list[dict[str, Any]]:
    """The coder's evidence for the final codes, CodiEsp-X style: the code
    (dotted), the span's character offsets into the note, and its text."""
    return [
        {"code": dotted(code), "start": start, "end": end, "text": text}
        for code, start, end, text in record.evidence
    ]


def sft_rows(record: ReviewRecord) -> Iterator[Row]:
    """``messages``: system, user, then the coder's final codes; ``evidence``
    the spans the coder marked for them (empty when none)."""
    yield {
        "messages": [*prompt_for(record), *_assistant(coder_output(record))],
        "evidence": coder_evidence(record),
        "metadata": _metadata(record, reasoning_source=reasoning_source(record)),
    }


def hard_negatives(record: ReviewRecord) -> list[dict[str, str]]:
    """The replacements where the model chose a sibling or a less specific code."""
    return [
        {
            "model_code": dotted(code),
            "coder_code": dotted(replacement),
            "kind": HARD_NEGATIVE_RELATIONS[relation],
        }
        for code, replacement, relation in record.replacements
        if relation in HARD_NEGATIVE_RELATIONS
    ]


def dpo_rows(record: ReviewRecord) -> Iterator[Row]:
    """Only where the coder changed something: chosen is the coder's output,
    rejected the model's; hard negatives are listed in the metadata."""
    if record.unchanged:
        return
    chosen, rejected = coder_output(record), model_output(record)
    if chosen == rejected:
        return
    negatives = hard_negatives(record)
    yield {
        "prompt": prompt_for(record),
        "chosen": _assistant(chosen),
        "rejected": _assistant(rejected),
        "metadata": _metadata(
            record,
            reasoning_source=reasoning_source(record),
            hard_negative=bool(negatives),
            hard_negatives=negatives,
        ),
    }


def kto_rows(record: ReviewRecord) -> Iterator[Row]:
    """The model's output, labelled true when the coder accepted it as is;
    where the coder changed it, the coder's output too, labelled true."""
    prompt = prompt_for(record)
    yield {
        "prompt": prompt,
        "completion": _assistant(model_output(record)),
        "label": record.unchanged,
        "metadata": _metadata(record, source="model"),
    }
    if not record.unchanged:
        yield {
            "prompt": prompt,
            "completion": _assistant(coder_output(record)),
            "label": True,
            "metadata": _metadata(record, source="coder"),
        }


def grpo_rows(record: ReviewRecord) -> Iterator[Row]:
    """``prompt`` and the coder's final codes as ``gold_codes`` for the
    reward; a review with no final code is left out (nothing to score)."""
    if not record.final:
        return
    yield {
        "prompt": prompt_for(record),
        "gold_codes": [dotted(code) for code in record.final],
        "metadata": _metadata(record),
    }


ROW_BUILDERS = {"sft": sft_rows, "dpo": dpo_rows, "kto": kto_rows, "grpo": grpo_rows}
