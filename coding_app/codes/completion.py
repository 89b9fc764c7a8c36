"""Read a model completion in the DeepICD-R1 format, strictly and safely.

The expected shape is::

    <think>
    reasoning that cites the note
    </think>
    <diagnosis>
    I21.4
    E11.65
    </diagnosis>

Completions come from a model under training, so they can be anything: empty,
megabytes long, tags nested, repeated or unclosed. Every scan here is a
single linear pass over at most ``MAX_SCANNED`` characters; no regular
expression here can backtrack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from coding_app.codes.forms import CATEGORY_PATTERN, code_key

# Reasoning plus a handful of codes fits in far less; past this a completion
# is a runaway generation and only its beginning is read.
MAX_SCANNED = 32_000
# More codes than any note carries; past this the list is spam.
MAX_CODES = 40

_TAG = re.compile(r"<(/?)(think|diagnosis)>", re.IGNORECASE)
_CODE_TOKEN = re.compile(
    rf"(?<![A-Za-z0-9.])(?i:{CATEGORY_PATTERN}(?:\.?[0-9A-Z]{{1,4}})?)(?![A-Za-z0-9.])"
)
_SEPARATORS = re.compile(r"[\s,;]+")
_EXPECTED = ["<think>", "</think>", "<diagnosis>", "</diagnosis>"]


@dataclass(frozen=True)
class ParsedCompletion:
    """``well_formed`` is the format verdict; ``codes`` are keys in written
    order (repeats dropped) from the first diagnosis block, whatever the
    format; ``problems`` say what broke the format."""

    well_formed: bool
    codes: tuple[str, ...]
    problems: tuple[str, ...]


def completion_text(completion: Any) -> str:
    """The generated text of a plain or conversational (trl) completion.

    A conversational completion is a list of ``{"role", "content"}`` messages;
    the assistant messages are joined. Content given as a list of parts keeps
    the text parts. Anything else reads as empty.
    """
    if isinstance(completion, str):
        return completion
    if not isinstance(completion, list | tuple):
        return ""
    texts = [
        _content_text(message.get("content"))
        for message in completion
        if isinstance(message, dict) and message.get("role", "assistant") == "assistant"
    ]
    return "\n".join(texts)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def parse_completion(text: str) -> ParsedCompletion:
    """The format verdict and the codes of the first diagnosis block."""
    problems: list[str] = []
    if len(text) > MAX_SCANNED:
        problems.append(f"longer than {MAX_SCANNED} characters")
        text = text[:MAX_SCANNED]
    tags = [(match.group(0), match.start(), match.end()) for match in _TAG.finditer(text)]
    problems.extend(_tag_problems(text, tags))
    body = _first_diagnosis_body(text, tags)
    if body is None:
        return ParsedCompletion(False, (), (*problems, "no <diagnosis> block"))
    codes, body_problems = _body_codes(body)
    problems.extend(body_problems)
    return ParsedCompletion(not problems, codes, tuple(problems))


def _tag_problems(text: str, tags: list[tuple[str, int, int]]) -> list[str]:
    """What keeps the text from being exactly think-block then diagnosis-block."""
    written = [tag for tag, _, _ in tags]
    if written != _EXPECTED:
        return [f"tags are {' '.join(written[:8]) or 'missing'}, not {' '.join(_EXPECTED)}"]
    problems = []
    (_, think_start, think_open), (_, think_close, think_end) = tags[0], tags[1]
    (_, diagnosis_start, _), (_, _, diagnosis_end) = tags[2], tags[3]
    if text[:think_start].strip():
        problems.append("text before <think>")
    if not text[think_open:think_close].strip():
        problems.append("empty <think> block")
    if text[think_end:diagnosis_start].strip():
        problems.append("text between </think> and <diagnosis>")
    if text[diagnosis_end:].strip():
        problems.append("text after </diagnosis>")
    return problems


def _first_diagnosis_body(text: str, tags: list[tuple[str, int, int]]) -> str | None:
    for index, (tag, _, end) in enumerate(tags):
        if tag.lower() == "<diagnosis>":
            closing = next(
                (s for t, s, _ in tags[index + 1 :] if t.lower() == "</diagnosis>"), None
            )
            return text[end:closing] if closing is not None else None
    return None


def _body_codes(body: str) -> tuple[tuple[str, ...], list[str]]:
    tokens = [token for token in _SEPARATORS.split(body) if token]
    codes: dict[str, None] = {}
    for match in _CODE_TOKEN.finditer(body):
        key = code_key(match.group(0))
        if key is not None and len(codes) < MAX_CODES:
            codes.setdefault(key, None)
    problems = []
    if not tokens:
        problems.append("empty <diagnosis> block")
    elif any(code_key(token) is None for token in tokens):
        problems.append("<diagnosis> holds more than codes")
    if len(tokens) > MAX_CODES:
        problems.append(f"more than {MAX_CODES} codes")
    return tuple(codes), problems
