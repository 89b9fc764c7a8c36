"""Versioned prompts for the LLM backends, and the completion they ask for.

Every prediction stores the prompt version it was made with, and the
training exports rebuild their prompts from it, so a released template never
changes: a new wording is a new version, added below and made current. The
messages are a pure function of (note text, version); the note goes in
whole, since cutting it to a token budget is the backend's business and must
never happen silently here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from coding_app.codes.forms import code_key, dotted
from worker.backends.llm.output import FORMAT_TAG


@dataclass(frozen=True)
class _Template:
    system: str
    # ``{note}`` marks where the note text goes.
    user: str


_EXPERT_V1 = _Template(
    system="""\
You are a certified professional medical coder who assigns ICD-10-CM \
diagnosis codes to clinical notes.

Before you answer, reason step by step through the note:
1. The history: the reason for the visit, the history of the present illness, \
past and chronic conditions.
2. The findings: the examination, laboratory results and imaging, and what \
they confirm.
3. The medications: what the patient takes or is started on, and the \
condition each one treats.
4. The assessment and plan: the diagnoses the clinician states.

Coding rules:
- Code only what the note documents. Never code a condition that is ruled \
out, and never code a suspected, probable or possible condition as if it \
were confirmed: code the documented signs and symptoms instead.
- Choose the most specific billable code the note supports, with every \
character it needs (a 7th character where one is required), never a \
category or header that has codes under it.
- Code each condition once; put the main reason for the encounter first.
- Use ICD-10-CM diagnosis codes only.

Answer in exactly this format and nothing else (the codes show the form only):

<think>
reasoning that cites the note
</think>
<diagnosis>
I21.4
E11.65
</diagnosis>

In <think>, quote the words of the note that support each code. In \
<diagnosis>, write one code per line in dotted form, like E11.65, with no \
descriptions, bullets or numbering.""",
    user="""\
Assign the ICD-10-CM codes for the clinical note between <note> and </note>.

<note>
{note}
</note>""",
)

_TEMPLATES: dict[str, _Template] = {"icd10cm-expert-v1": _EXPERT_V1}

PROMPT_VERSION = "icd10cm-expert-v1"


class UnknownPromptVersion(LookupError):
    """A prompt version this code does not have (a typo, or a newer release)."""


def prompt_versions() -> tuple[str, ...]:
    """Every released version, oldest first."""
    return tuple(_TEMPLATES)


def prompt_messages(note_text: str, version: str = PROMPT_VERSION) -> list[dict[str, str]]:
    """The system and user chat messages that ask for one note's codes."""
    if not isinstance(version, str) or version not in _TEMPLATES:
        known = ", ".join(prompt_versions())
        raise UnknownPromptVersion(f"no prompt version {version!r}; the known ones are {known}")
    if not isinstance(note_text, str):
        raise TypeError(f"the note text must be a string, not {type(note_text).__name__}")
    if not note_text.strip():
        raise ValueError("the note text is empty: there is nothing to code")
    template = _TEMPLATES[version]
    return [
        {"role": "system", "content": template.system},
        {"role": "user", "content": template.user.format(note=note_text.strip())},
    ]


def assistant_output(codes: Sequence[str], reasoning: str = "") -> str:
    """The canonical completion: the reasoning, then one dotted code a line.

    Codes may be keys (``E1165``) or dotted (``E11.65``); repeats are
    dropped. What the model is trained to write is exactly what
    ``worker.backends.llm.output`` reads, so exports and test models use this.
    """
    if isinstance(codes, str):
        raise TypeError(f"codes must be a list of codes, not one string ({codes!r})")
    lines = []
    for code in codes:
        key = code_key(code)
        if key is None:
            raise ValueError(f"{code!r} is not written like an ICD-10-CM code (E11.65 or E1165)")
        lines.append(dotted(key))
    if not isinstance(reasoning, str):
        raise TypeError(f"the reasoning must be a string, not {type(reasoning).__name__}")
    tag = FORMAT_TAG.search(reasoning)
    if tag is not None:
        raise ValueError(f"the reasoning holds the tag {tag.group(0)!r}, which would end it early")
    think = _block("think", [reasoning.strip()] if reasoning.strip() else [])
    return f"{think}\n{_block('diagnosis', list(dict.fromkeys(lines)))}"


def _block(tag: str, lines: list[str]) -> str:
    return f"<{tag}>\n" + "".join(f"{line}\n" for line in lines) + f"</{tag}>"
