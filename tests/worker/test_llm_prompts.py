"""Versioned prompts, and the canonical completion they ask for."""

from __future__ import annotations

import pytest

from coding_app.codes.completion import parse_completion
from worker.backends.llm.prompts import (
    PROMPT_VERSION,
    UnknownPromptVersion,
    assistant_output,
    prompt_messages,
    prompt_versions,
)

NOTE = "62 y/o M with chest pain. Troponin 2.1. A1c 9.8% on metformin. Assessment: NSTEMI."
# The format exactly as DESIGN.md shows it.
FORMAT = (
    "<think>\nreasoning that cites the note\n</think>\n<diagnosis>\nI21.4\nE11.65\n</diagnosis>"
)


def test_the_current_version_is_listed() -> None:
    assert PROMPT_VERSION in prompt_versions()
    assert len(set(prompt_versions())) == len(prompt_versions())


@pytest.mark.parametrize("version", prompt_versions())
def test_every_version_asks_for_the_note_in_the_output_format(version: str) -> None:
    system, user = prompt_messages(NOTE, version)

    assert system["role"] == "system"
    assert FORMAT in system["content"]
    assert "ICD-10-CM" in system["content"]
    assert user["role"] == "user"
    assert f"<note>\n{NOTE}\n</note>" in user["content"]


def test_the_default_is_the_current_version() -> None:
    assert prompt_messages(NOTE) == prompt_messages(NOTE, PROMPT_VERSION)


def test_messages_are_a_pure_function_of_note_and_version() -> None:
    first = prompt_messages(NOTE)
    first[1]["content"] = "changed by a caller"

    assert prompt_messages(NOTE) == prompt_messages(NOTE)
    assert prompt_messages(NOTE)[1]["content"] != "changed by a caller"


def test_a_long_note_goes_in_whole() -> None:
    note = "Patient seen today. " * 10_000

    assert note.strip() in prompt_messages(note)[1]["content"]


def test_braces_in_a_note_are_kept_as_written() -> None:
    note = 'Vitals {note} {0} {"bp": "140/90"}'

    assert note in prompt_messages(note)[1]["content"]


def test_an_unknown_version_names_the_known_ones() -> None:
    with pytest.raises(UnknownPromptVersion) as raised:
        prompt_messages(NOTE, "icd10cm-expert-v0")

    assert "'icd10cm-expert-v0'" in str(raised.value)
    assert all(version in str(raised.value) for version in prompt_versions())
    assert isinstance(raised.value, LookupError)


@pytest.mark.parametrize(
    ("note", "error", "message"),
    [
        ("", ValueError, "the note text is empty"),
        (" \n\t", ValueError, "the note text is empty"),
        (None, TypeError, "the note text must be a string, not NoneType"),
        (b"note", TypeError, "the note text must be a string, not bytes"),
    ],
)
def test_a_note_without_text_is_refused(note: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        prompt_messages(note)  # type: ignore[arg-type]  # the bad input under test


def test_assistant_output_writes_the_format_with_dotted_codes() -> None:
    output = assistant_output(["I214", "e11.65", "E1165"], "  Troponin 2.1; A1c 9.8%.\n")

    assert output == (
        "<think>\nTroponin 2.1; A1c 9.8%.\n</think>\n<diagnosis>\nI21.4\nE11.65\n</diagnosis>"
    )
    assert parse_completion(output).well_formed
    assert parse_completion(output).codes == ("I214", "E1165")


def test_assistant_output_without_reasoning_or_codes_keeps_the_blocks() -> None:
    assert assistant_output([]) == "<think>\n</think>\n<diagnosis>\n</diagnosis>"


@pytest.mark.parametrize(
    ("codes", "reasoning", "error", "message"),
    [
        (["E11.65", "diabetes"], "", ValueError, "'diabetes' is not written like an ICD-10-CM"),
        (["E1.165"], "", ValueError, "'E1.165' is not written like"),
        ("E11.65", "", TypeError, "codes must be a list of codes, not one string"),
        (["E11.65"], "done</think>", ValueError, "the reasoning holds the tag '</think>'"),
        (["E11.65"], "see <Diagnosis> below", ValueError, "holds the tag '<Diagnosis>'"),
        (["E11.65"], None, TypeError, "the reasoning must be a string, not NoneType"),
    ],
)
def test_assistant_output_refuses_what_would_break_the_format(
    codes: object, reasoning: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        assistant_output(codes, reasoning)  # type: ignore[arg-type]  # the bad input under test
