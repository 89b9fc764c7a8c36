"""Read what a language model wrote into suggested codes, tolerantly.

Every LLM backend hands its raw text here. The preferred shape is the
DeepICD-R1 one that ``worker.backends.llm.prompts`` asks for (a ``<think>``
block, then one dotted code a line in ``<diagnosis>``; the example is in
``coding_app.codes.completion``, which reads it strictly for the reward).

Models drift from it, so this also reads damaged tags, a JSON object with
``"diseases"`` (the LoRA diagnosis system's format), bare lists of codes and,
as a last resort, code-shaped words anywhere in the text. The reward parser
(``coding_app.codes.completion``) stays strict because it grades the format;
this one wants the codes.

Output is untrusted and can be anything: empty, megabytes long, tags nested,
repeated or unclosed. Only the first ``MAX_SCANNED`` characters are read,
every regular expression here is bounded or a plain character class (none
can backtrack), and at most a fixed handful of JSON decodes are tried.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, NamedTuple

from coding_app.codes.completion import MAX_CODES, MAX_SCANNED
from coding_app.codes.forms import code_key
from coding_app.codes.hierarchy import Hierarchy
from coding_app.codes.normalize import check_code
from worker.backends.base import SuggestedCode

# An invalid code is kept as written so the coder sees it; anything longer
# than this was never a code and is cut for display.
MAX_WRITTEN = 40

# The format's tags, forgiving case, a few stray spaces and "diagnoses".
# Exported so the prompt module can refuse reasoning that would break it.
FORMAT_TAG = re.compile(r"<\s{0,3}(/?)\s{0,3}(think|diagnos[ie]s)\s{0,3}>", re.IGNORECASE)

# Codes only ever hold these characters, so any other character (spaces,
# dashes, colons, quotes, brackets, markdown) ends a word.
_WORD = re.compile(r"[A-Za-z0-9.]+")
_SEGMENT_BREAK = re.compile(r"[,;|/]")
_JSON_KEY = re.compile(r'"(?:diseases|codes)"\s{0,20}:', re.IGNORECASE)
# A few key occurrences, each tried from a few opening braces back: enough
# for an object with nested parts, bounded on text full of braces.
_JSON_KEYS_TRIED = 4
_JSON_STARTS_TRIED = 8
_CODE_FIELDS = ("code", "icd10_code", "icd_code", "icd10")
_RATIONALE_FIELDS = ("description", "reason", "rationale")

NOTHING_READABLE = 'no <diagnosis> block, no JSON with "diseases", and no codes in the output'
FREE_TEXT = (
    'no <diagnosis> block, JSON with "diseases" or list of codes was found; '
    "the codes were picked from free text"
)

# A code as the model wrote it, with the model's words about it.
Written = tuple[str, str]


@dataclass(frozen=True)
class ParsedOutput:
    """The codes in written order (repeats dropped), the reasoning as plain
    text, and ``problem``: empty when the output was read in a known format,
    otherwise what was wrong with it, in words."""

    codes: tuple[SuggestedCode, ...]
    reasoning: str
    problem: str


@dataclass(frozen=True)
class _Layout:
    """Where the tags put things: ``diagnosis`` is None without a block;
    ``answer`` is the text outside the reasoning, where fallbacks look."""

    reasoning: str
    diagnosis: str | None
    answer: str


def parse_llm_output(text: str, hierarchy: Hierarchy) -> ParsedOutput:
    """Codes, reasoning and any problem for one raw output; never raises on text."""
    if not isinstance(text, str):
        raise TypeError(f"an LLM output is text, not {type(text).__name__}")
    if not text.strip():
        return ParsedOutput((), "", "the output is empty")
    problems: list[str] = []
    if len(text) > MAX_SCANNED:
        problems.append(
            f"the output is {len(text)} characters long; only the first {MAX_SCANNED} were read"
        )
        text = text[:MAX_SCANNED]
    written, reasoning, problem = _read(text)
    codes, overflow = _suggestions(written, hierarchy)
    problems.extend(p for p in (problem, overflow) if p)
    return ParsedOutput(codes, reasoning, "; ".join(problems))


def _read(text: str) -> tuple[list[Written], str, str]:
    """The written codes, the reasoning and the problem, best format first."""
    layout = _layout(text)
    if layout.diagnosis is not None:
        written = [(code, "") for code in _listed_codes(layout.diagnosis)]
        empty = not written and bool(layout.diagnosis.strip())
        return written, layout.reasoning, "the <diagnosis> block holds no codes" if empty else ""
    found = _json_object(text)
    if found is not None:
        written, problem = _json_codes(found)
        return written, _json_reason(found) or layout.reasoning, problem
    if _is_code_list(layout.answer):
        return [(code, "") for code in _listed_codes(layout.answer)], layout.reasoning, ""
    loose = _free_text_codes(layout.answer) or _free_text_codes(text)
    problem = FREE_TEXT if loose else NOTHING_READABLE
    return [(code, "") for code in loose], layout.reasoning, problem


# --- the tag format --------------------------------------------------------


class _Tag(NamedTuple):
    closing: bool
    think: bool
    start: int
    end: int


def _layout(text: str) -> _Layout:
    """Split the text by its tags, forgiving missing and unclosed ones.

    The reasoning is the first think block; without ``<think>`` it is what
    comes before ``</think>``, unclosed it runs to ``<diagnosis>``. The
    diagnosis blocks are those outside the reasoning.
    """
    tags = [
        _Tag(bool(m.group(1)), m.group(2).lower() == "think", m.start(), m.end())
        for m in FORMAT_TAG.finditer(text)
    ]
    opening = next((t for t in tags if t.think and not t.closing), None)
    begin = opening.end if opening else 0
    closing = next((t for t in tags if t.think and t.closing and t.start >= begin), None)
    diagnoses = [t for t in tags if not t.think]
    if closing is not None:
        reasoning_end, after = closing.start, closing.end
    elif opening is not None:
        reasoning_end = after = next(
            (t.start for t in diagnoses if not t.closing and t.start >= begin), len(text)
        )
    else:
        reasoning_end = after = 0
    # A block mentioned inside the reasoning is not the answer.
    outside = opening.start if opening else 0
    chosen = [t for t in diagnoses if t.start >= after or t.end <= outside]
    blocks = _diagnosis_blocks(text, chosen)
    if blocks is not None and opening is None and closing is None:
        # No think tags: what the model wrote before its answer is its
        # reasoning all the same.
        reasoning_end = next(t.start for t in chosen if not t.closing)
    return _Layout(text[begin:reasoning_end].strip(), blocks, text[after:])


def _diagnosis_blocks(text: str, tags: list[_Tag]) -> str | None:
    """The bodies of the diagnosis blocks, joined; an unclosed one runs to
    the end. Nested or repeated blocks merge, since a repeat is still an answer."""
    bodies: list[str] = []
    start: int | None = None
    for tag in tags:
        if tag.closing and start is not None:
            bodies.append(text[start : tag.start])
            start = None
        elif not tag.closing and start is None:
            start = tag.end
    if start is not None:
        bodies.append(text[start:])
    return FORMAT_TAG.sub("\n", "\n".join(bodies)) if bodies else None


# --- lists of codes ----------------------------------------------------------


def _listed_codes(text: str) -> list[str]:
    """The codes of a list, one or several a line, as written.

    Tolerates bullets, numbering, labels (``Codes: E11.65``) and a
    description after a code (``E11.65 - Type 2 diabetes…``, ``E11.65:
    …``). A line's first word counts as a code attempt when it looks like
    one, so ``XYZ`` or ``E11`` are kept to be flagged; in prose, only
    code-shaped words count (``Type 2 diabetes (E11.65)``).
    """
    found = []
    for line in text.splitlines():
        for segment in _SEGMENT_BREAK.split(line):
            found.extend(_segment_codes(segment))
    return found


def _segment_codes(segment: str) -> list[str]:
    """A colon after a code starts its description; any other colon ends a
    label, whose words count only when code-shaped."""
    found: list[str] = []
    while True:
        head, colon, rest = segment.partition(":")
        words = _words(head)
        if not colon or (words and _code_shaped(words[0])):
            return found + _word_codes(_words(segment))
        found.extend(_word_codes(words))
        segment = rest


def _word_codes(words: list[str]) -> list[str]:
    if not words:
        return []
    shaped = [word for word in words[1:] if _code_shaped(word)]
    # Without a digit, a first word is an attempt (XYZ) only when no code
    # follows it; otherwise it is an abbreviation: NSTEMI (I21.4).
    attempt = _looks_like_code(words[0]) and (_has_digit(words[0]) or not shaped)
    if not attempt:
        return shaped
    codes = [words[0]]
    for word in words[1:]:
        if not _code_shaped(word):
            break  # a description starts; its words are not codes
        codes.append(word)
    return codes


def _is_code_list(text: str) -> bool:
    """True when every line with words starts with a code, after any label:
    the text is a list of codes, not prose."""
    seen = False
    for line in text.splitlines():
        head, colon, rest = line.partition(":")
        label = colon and not (_words(head) and _code_shaped(_words(head)[0]))
        words = _words(rest if label else line)
        if not words:
            continue
        if not _code_shaped(words[0]):
            return False
        seen = True
    return seen


def _free_text_codes(text: str) -> list[str]:
    """Upper-case code-shaped words anywhere; lower case in prose is more
    often a word (``a1c``) than a code."""
    return [word for word in _words(text) if word.isupper() and _code_shaped(word)]


def _words(text: str) -> list[str]:
    """Words that could be codes, list numbering (``1.``, ``a)``) skipped
    at the start, dots at the ends dropped (``E11.65.`` ends a sentence)."""
    words = [word for word in (w.strip(".") for w in _WORD.findall(text)) if word]
    start = 0
    while start < len(words) and _is_numbering(words[start]):
        start += 1
    return words[start:]


def _is_numbering(word: str) -> bool:
    return (word.isdigit() and len(word) <= 3) or (len(word) == 1 and word.isalpha())


def _looks_like_code(word: str) -> bool:
    """A word the model meant as a code, even a wrong one (``XYZ``, ``250.00``)."""
    return 3 <= len(word) <= 10 and (_has_digit(word) or word.isupper())


def _has_digit(word: str) -> bool:
    return any(char.isdigit() for char in word)


def _code_shaped(word: str) -> bool:
    return code_key(word) is not None


# --- JSON ----------------------------------------------------------------


def _json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object with a ``diseases`` (or ``codes``) key, in a
    fenced block or loose in chatter."""
    decoder = json.JSONDecoder()
    for key in islice(_JSON_KEY.finditer(text), _JSON_KEYS_TRIED):
        end = key.start()
        for _ in range(_JSON_STARTS_TRIED):
            start = text.rfind("{", 0, end)
            if start < 0:
                break
            try:
                value, stop = decoder.raw_decode(text, start)
            except (ValueError, RecursionError):
                value, stop = None, start
            if isinstance(value, dict) and stop > key.start() and _codes_field(value) is not None:
                return value
            end = start
    return None


def _codes_field(found: dict[str, Any]) -> str | None:
    names = {name.lower(): name for name in found}
    return names.get("diseases", names.get("codes"))


def _json_codes(found: dict[str, Any]) -> tuple[list[Written], str]:
    """The written codes of ``diseases``: strings, ``{"code": …}`` objects or
    one comma-separated string; the problem names entries that hold no code."""
    field = _codes_field(found)
    value = found[field] if field is not None else None
    if value is None:
        return [], ""
    if isinstance(value, str):
        return [(code, "") for code in _listed_codes(value)], ""
    if not isinstance(value, list):
        return [], f'"{field}" is {type(value).__name__}, not a list of codes'
    written: list[Written] = []
    skipped = 0
    for item in value:
        entry = list(_json_entry(item))
        written.extend(entry)
        skipped += not entry
    if skipped:
        return written, f'{skipped} of the {len(value)} entries in "{field}" hold no code'
    return written, ""


def _json_entry(item: Any) -> Iterator[Written]:
    if isinstance(item, str):
        yield from ((code, "") for code in _claimed_codes(item))
    elif isinstance(item, int | float) and not isinstance(item, bool):
        yield from ((code, "") for code in _claimed_codes(str(item)))
    elif isinstance(item, dict):
        fields = {str(name).lower(): value for name, value in item.items()}
        code = next((fields[f] for f in _CODE_FIELDS if isinstance(fields.get(f), str)), "")
        rationale = next(
            (fields[f].strip() for f in _RATIONALE_FIELDS if isinstance(fields.get(f), str)), ""
        )
        yield from ((written, rationale) for written in _claimed_codes(code))


def _claimed_codes(text: str) -> list[str]:
    """What a JSON entry claims as codes: those found in it, or else the
    entry itself, kept so the coder sees it refused."""
    return _listed_codes(text) or ([text.strip()] if text.strip() else [])


def _json_reason(found: dict[str, Any]) -> str:
    fields = {name.lower(): value for name, value in found.items()}
    reason = fields.get("reason", fields.get("reasoning"))
    return reason.strip() if isinstance(reason, str) else ""


# --- validation ----------------------------------------------------------------


def _suggestions(
    written: list[Written], hierarchy: Hierarchy
) -> tuple[tuple[SuggestedCode, ...], str]:
    """Each distinct written code checked against the release, in order; the
    second value says when the list ran past ``MAX_CODES``."""
    distinct: dict[str, Written] = {}
    for text, rationale in written:
        key = code_key(text) or text.strip().upper()
        if key in distinct:
            continue
        if len(distinct) == MAX_CODES:
            return _checked(distinct, hierarchy), f"more than {MAX_CODES} codes; the rest were cut"
        distinct[key] = (text.strip(), rationale)
    return _checked(distinct, hierarchy), ""


def _checked(distinct: dict[str, Written], hierarchy: Hierarchy) -> tuple[SuggestedCode, ...]:
    return tuple(_suggestion(text, rationale, hierarchy) for text, rationale in distinct.values())


def _suggestion(text: str, rationale: str, hierarchy: Hierarchy) -> SuggestedCode:
    check = check_code(text, hierarchy)
    if check.code is not None:
        return SuggestedCode(code=check.code, rationale=rationale)
    return SuggestedCode(
        code=text[:MAX_WRITTEN], valid=False, problem=check.message, rationale=rationale
    )
