"""Why the embedding backend suggests a code: the sentences that support it
(evidence) and the texts that say so to a coder (a suggestion's rationale,
a note's reasoning).

A sentence is evidence for a code when its similarity to any of the code's
texts (description, inclusion terms) reaches ``evidence_floor``; the best
``MAX_EVIDENCE`` are kept. The rationale quotes the best sentence and names
the text it matched.
"""

from __future__ import annotations

import numpy as np

from coding_app.codes.forms import dotted
from coding_app.codes.hierarchy import Hierarchy
from worker.backends.base import SuggestedCode
from worker.backends.embedding.code_index import CodeIndex, code_index_texts
from worker.backends.embedding.ranking import Candidates, RankingOptions

MAX_EVIDENCE = 3
QUOTE_CHARS = 160


def suggestion_with_evidence(
    *,
    index: CodeIndex,
    hierarchy: Hierarchy,
    position: int,
    score: float,
    text: str,
    spans: list[tuple[int, int]],
    sentence_vectors: np.ndarray,
    evidence_floor: float,
) -> SuggestedCode:
    """The code at ``position`` of ``index``, suggested with ``score``, with
    the note's sentences that support it and a rationale."""
    code = index.codes[position]
    per_text = sentence_vectors @ index.code_rows(position).T  # sentences x texts
    per_sentence = per_text.max(axis=1)
    order = np.argsort(-per_sentence, kind="stable")[:MAX_EVIDENCE]
    kept = [int(j) for j in order if per_sentence[j] >= evidence_floor]
    best = int(order[0])
    texts = code_index_texts_of(hierarchy, code)
    rationale = suggestion_rationale(
        quote=sentence_quote(text[spans[best][0] : spans[best][1]]),
        similarity=float(per_sentence[best]),
        matched=texts[min(int(per_text[best].argmax()), len(texts) - 1)],
        description=texts[0],
        supported=bool(kept),
        more=len(kept) - 1,
    )
    return SuggestedCode(
        code=code,
        score=round(score, 4),
        evidence=tuple(spans[j] for j in sorted(kept)),
        rationale=rationale,
    )


def ranking_reasoning(
    *,
    index: CodeIndex,
    options: RankingOptions,
    sentences: int,
    candidates: Candidates,
    codes: tuple[SuggestedCode, ...],
) -> str:
    """The note's reasoning text: what was ranked, how, and what was kept."""
    text = (
        f"Ranked {len(index):,} billable codes against the note's {sentences} "
        "sentence(s) by similarity. "
    )
    if not codes:
        top = index.codes[int(candidates.positions[0])]
        return text + (
            f"No code reached the cut-off {options.threshold:g}; the closest was "
            f"{dotted(top)} ({float(candidates.scores[0]):.3f})."
        )
    listed = ", ".join(f"{dotted(c.code)} ({c.score:.3f})" for c in codes)
    return text + (
        f"Kept {len(codes)} code(s) scoring {options.threshold:g} or more (at most "
        f"{options.top_k}, {options.per_category or 'any number'} per category): {listed}."
    )


def code_index_texts_of(hierarchy: Hierarchy, code: str) -> list[str]:
    """The texts a code was embedded from, in index row order."""
    entry = hierarchy.entry(code)
    return code_index_texts(entry) if entry is not None else [code]


def suggestion_rationale(
    *,
    quote: str,
    similarity: float,
    matched: str,
    description: str,
    supported: bool,
    more: int,
) -> str:
    """One suggestion's rationale: the sentence quoted, the text it matched."""
    target = f"“{description}”"
    if matched != description:
        target = f"“{matched}”, an inclusion term of {target}"
    prefix = "Suggested"
    if not supported:
        return (
            f"{prefix}; no sentence is close to {target} (the closest, “{quote}”, "
            f"has similarity {similarity:.2f})."
        )
    text = (
        f"{prefix} because the note says “{quote}” (similarity {similarity:.2f}) "
        f"which matches {target}."
    )
    if more == 1:
        text += " 1 more sentence supports it."
    elif more > 1:
        text += f" {more} more sentences support it."
    return text


def sentence_quote(sentence: str) -> str:
    """The sentence on one line, cut at a word to ``QUOTE_CHARS``."""
    sentence = " ".join(sentence.split())
    if len(sentence) <= QUOTE_CHARS:
        return sentence
    cut = sentence.rfind(" ", 0, QUOTE_CHARS - 1)
    return sentence[: cut if cut > QUOTE_CHARS // 2 else QUOTE_CHARS - 1] + "…"
