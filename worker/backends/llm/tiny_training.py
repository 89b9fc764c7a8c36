"""Teaching the tiny model the answer's layout, on synthetic notes.

Notes made from a few real codes' descriptions, with the answers
``prompts`` asks for; the loss is on the answer only.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

from coding_app.codes.entry import CodeEntry
from worker.backends.llm.tiny_chat import IM_END, TinyModelError, rendered_chat

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedTokenizerBase, Qwen2ForCausalLM

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


def teach_answer_format(
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
        batch = _padded(order.sample(examples, _BATCH_SIZE), tokenizer.pad_token_id)
        loss = _answer_loss(model, prefix, *batch)
        torch.autograd.backward(loss)
        optimizer.step()
        optimizer.zero_grad()
    return float(loss.item())


def _answer_loss(
    model: Qwen2ForCausalLM,
    prefix: torch.Tensor,
    ids: torch.Tensor,
    mask: torch.Tensor,
    answer: torch.Tensor,
) -> torch.Tensor:
    """The loss on a batch's answer tokens, the shared instructions (``prefix``)
    run once without gradients and their keys and values reused."""
    import torch

    with torch.no_grad():
        cache = model(input_ids=prefix, use_cache=True).past_key_values
    cache.batch_repeat_interleave(_BATCH_SIZE)
    seen = torch.ones(_BATCH_SIZE, prefix.shape[1], dtype=torch.long)
    hidden = model.model(
        input_ids=ids, attention_mask=torch.cat([seen, mask], dim=1), past_key_values=cache
    ).last_hidden_state
    # The state at position i predicts the token at i + 1.
    predicts = answer[:, 1:]
    logits = model.lm_head(hidden[:, :-1][predicts])
    return torch.nn.functional.cross_entropy(logits, ids[:, 1:][predicts])


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
    head = rendered_chat(tokenizer, system)
    examples = []
    for _ in range(_EXAMPLES):
        chosen = rng.sample(pool, rng.randint(1, 3))
        sentences = [rng.choice(_NOTE_SENTENCES).format(d=e.description.lower()) for e in chosen]
        prompt = rendered_chat(
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
