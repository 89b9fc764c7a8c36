"""Reading LLM outputs: the tag format, its damaged forms, JSON, bare lists."""

from __future__ import annotations

import pytest

from coding_app.codes.completion import MAX_CODES, MAX_SCANNED, parse_completion
from coding_app.codes.hierarchy import Hierarchy
from coding_app.codes.normalize import Refusal, check_code
from tests.coding_app.test_codes_support import packaged_hierarchy
from worker.backends.base import SuggestedCode
from worker.backends.llm.output import FREE_TEXT, NOTHING_READABLE, ParsedOutput, parse_llm_output
from worker.backends.llm.prompts import assistant_output

HIERARCHY = packaged_hierarchy()


@pytest.fixture(scope="session")
def hierarchy() -> Hierarchy:
    return HIERARCHY


def keys(parsed: ParsedOutput) -> list[str]:
    return [code.code for code in parsed.codes]


def test_canonical_output_round_trips(hierarchy: Hierarchy) -> None:
    text = assistant_output(["I214", "E11.65"], "Troponin rose; A1c 9.8% on metformin.")

    parsed = parse_llm_output(text, hierarchy)

    assert parsed == ParsedOutput(
        codes=(SuggestedCode("I214"), SuggestedCode("E1165")),
        reasoning="Troponin rose; A1c 9.8% on metformin.",
        problem="",
    )
    # The strict reward parser grades the same text as well formed.
    assert parse_completion(text).well_formed


@pytest.mark.parametrize(
    ("text", "reasoning"),
    [
        ("<diagnosis>\nI21.4\nE11.65\n</diagnosis>", ""),
        ("Troponin rose.\n<diagnosis>\nI21.4\nE11.65\n</diagnosis>", "Troponin rose."),
        ("Troponin rose.\n</think>\n<diagnosis>I21.4\nE11.65</diagnosis>", "Troponin rose."),
        ("<think>Troponin rose.\n<diagnosis>I21.4\nE11.65</diagnosis>", "Troponin rose."),
        ("<think>Troponin rose.</think>\n<diagnosis>\nI21.4\nE11.65\n", "Troponin rose."),
        ("<THINK>Troponin rose.</Think><Diagnosis>i21.4 e11.65</DIAGNOSIS>", "Troponin rose."),
        ("< think >Troponin rose.</ think><diagnoses>I21.4, E11.65</diagnoses>", "Troponin rose."),
    ],
    ids=[
        "no think",
        "prose before diagnosis",
        "close think only",
        "think unclosed",
        "diagnosis unclosed",
        "case differences",
        "stray spaces and diagnoses",
    ],
)
def test_damaged_tags_are_forgiven(hierarchy: Hierarchy, text: str, reasoning: str) -> None:
    parsed = parse_llm_output(text, hierarchy)

    assert keys(parsed) == ["I214", "E1165"]
    assert parsed.reasoning == reasoning
    assert parsed.problem == ""


@pytest.mark.parametrize(
    "body",
    [
        "I21.4\nE11.65",
        "I21.4, E11.65",
        "I21.4; E11.65",
        "I21.4 E11.65",
        "I21.4 | E11.65",
        "1. I21.4\n2. E11.65",
        "1) I21.4\n2) E11.65",
        "- I21.4\n* E11.65",
        "• I21.4\n• E11.65",
        "I21.4 - NSTEMI\nE11.65 - Type 2 diabetes mellitus with hyperglycemia, unspecified",
        "I21.4: NSTEMI\nE11.65: Type 2 diabetes mellitus with hyperglycemia",
        "I21.4 \u2013 NSTEMI (troponin 2.1)\nE11.65 (hyperglycemia)",
        "**I21.4** NSTEMI\n`E11.65`",
        "Codes: I21.4, E11.65",
        "NSTEMI (I21.4)\nType 2 diabetes with hyperglycemia: E11.65",
        "I214\nE1165.",
    ],
)
def test_diagnosis_block_reads_every_list_style(hierarchy: Hierarchy, body: str) -> None:
    parsed = parse_llm_output(f"<think>r</think>\n<diagnosis>\n{body}\n</diagnosis>", hierarchy)

    assert keys(parsed) == ["I214", "E1165"]
    assert parsed.problem == ""


def test_description_words_are_not_read_as_codes(hierarchy: Hierarchy) -> None:
    # B12 is code-shaped; in a description after a code it is just a word.
    text = "<diagnosis>\nD51.0 - Vitamin B12 deficiency anemia\n</diagnosis>"

    assert keys(parse_llm_output(text, hierarchy)) == ["D510"]


@pytest.mark.parametrize(
    ("written", "refusal"),
    [
        ("E11.99", Refusal.UNKNOWN),
        ("E11", Refusal.NOT_BILLABLE),
        ("XYZ", Refusal.MALFORMED),
        ("S72.001Z", Refusal.BAD_SEVENTH_CHARACTER),
    ],
)
def test_invalid_codes_are_kept_and_flagged_with_the_reason(
    hierarchy: Hierarchy, written: str, refusal: Refusal
) -> None:
    check = check_code(written, hierarchy)
    assert check.refusal == refusal

    parsed = parse_llm_output(f"<diagnosis>\nI21.4\n{written}\nE11.65\n</diagnosis>", hierarchy)

    assert parsed.codes == (
        SuggestedCode("I214"),
        SuggestedCode(written, valid=False, problem=check.message),
        SuggestedCode("E1165"),
    )
    assert parsed.problem == ""


def test_repeats_are_dropped_in_written_order(hierarchy: Hierarchy) -> None:
    text = "<diagnosis>E11.65, I10, e11.65, E1165, XYZ, I10, xyz</diagnosis>"

    assert keys(parse_llm_output(text, hierarchy)) == ["E1165", "I10", "XYZ"]


def test_repeated_and_nested_blocks_merge(hierarchy: Hierarchy) -> None:
    repeated = "<think>r</think><diagnosis>I21.4</diagnosis><diagnosis>E11.65 I21.4</diagnosis>"
    nested = "<think>r</think><diagnosis><diagnosis>I21.4\nE11.65</diagnosis></diagnosis>"

    for text in (repeated, nested):
        parsed = parse_llm_output(text, hierarchy)
        assert (keys(parsed), parsed.reasoning, parsed.problem) == (["I214", "E1165"], "r", "")


def test_a_block_mentioned_inside_the_reasoning_is_not_the_answer(hierarchy: Hierarchy) -> None:
    text = "<think>Put codes in <diagnosis> tags. Not I10.</think>\n<diagnosis>E11.65</diagnosis>"

    parsed = parse_llm_output(text, hierarchy)

    assert keys(parsed) == ["E1165"]
    assert parsed.reasoning == "Put codes in <diagnosis> tags. Not I10."


def test_a_block_only_inside_the_reasoning_is_free_text(hierarchy: Hierarchy) -> None:
    text = "<think>Answer in <diagnosis> tags: E11.65 fits.</diagnosis></think>"

    parsed = parse_llm_output(text, hierarchy)

    assert (keys(parsed), parsed.problem) == (["E1165"], FREE_TEXT)


def test_an_answer_before_the_reasoning_is_still_read(hierarchy: Hierarchy) -> None:
    parsed = parse_llm_output("<diagnosis>E11.65</diagnosis>\n<think>A1c 9.8%.</think>", hierarchy)

    assert (keys(parsed), parsed.reasoning, parsed.problem) == (["E1165"], "A1c 9.8%.", "")


def test_an_empty_block_is_an_answer_of_no_codes(hierarchy: Hierarchy) -> None:
    parsed = parse_llm_output("<think>Nothing to code.</think><diagnosis>\n</diagnosis>", hierarchy)

    assert parsed == ParsedOutput((), "Nothing to code.", "")


def test_a_block_of_prose_says_it_holds_no_codes(hierarchy: Hierarchy) -> None:
    parsed = parse_llm_output("<diagnosis>Type 2 diabetes, uncontrolled</diagnosis>", hierarchy)

    assert parsed.codes == ()
    assert parsed.problem == "the <diagnosis> block holds no codes"


@pytest.mark.parametrize(
    "text",
    [
        '{"diseases": ["I21.4", "E11.65"], "reason": "Troponin rose."}',
        '{"diseases": "I21.4, E11.65", "reason": "Troponin rose."}',
        '{"codes": ["I21.4 - NSTEMI", "E11.65"], "reason": "Troponin rose."}',
        '{"Diseases": [{"code": "I21.4"}, {"code": "E11.65"}], "Reason": "Troponin rose."}',
        'Here you go:\n```json\n{"reason": "Troponin rose.",\n "diseases": ["I21.4", "E11.65"]}'
        "\n```\nLet me know if you need more.",
        'Result: {"result": {"diseases": ["I21.4", "E11.65"], "reason": "Troponin rose."}} ok',
        '<think>Troponin rose.</think>\n{"diseases": ["I21.4", "E11.65"]}',
    ],
    ids=["strings", "one string", "codes alias", "objects", "fenced", "nested", "after think"],
)
def test_json_answers_are_read(hierarchy: Hierarchy, text: str) -> None:
    parsed = parse_llm_output(text, hierarchy)

    assert keys(parsed) == ["I214", "E1165"]
    assert parsed.reasoning == "Troponin rose."
    assert parsed.problem == ""


def test_json_objects_give_each_code_its_rationale(hierarchy: Hierarchy) -> None:
    text = (
        '{"diseases": [{"code": "I21.4", "description": "NSTEMI"},'
        ' {"code": "E11.65", "reason": "A1c 9.8%"}, "I10"]}'
    )

    rationales = [code.rationale for code in parse_llm_output(text, hierarchy).codes]

    assert rationales == ["NSTEMI", "A1c 9.8%", ""]


def test_json_entries_that_are_not_codes_are_flagged_or_named(hierarchy: Hierarchy) -> None:
    long_name = "Type 2 diabetes mellitus with hyperglycemia and more words"
    text = f'{{"diseases": ["{long_name}", {{"name": "x"}}, null, "I10"]}}'

    parsed = parse_llm_output(text, hierarchy)

    assert parsed.codes[0].code == long_name[:40]
    assert not parsed.codes[0].valid
    assert parsed.codes[0].problem == check_code(long_name, hierarchy).message
    assert keys(parsed)[1:] == ["I10"]
    assert parsed.problem == '2 of the 4 entries in "diseases" hold no code'


def test_json_with_diseases_not_a_list_says_so(hierarchy: Hierarchy) -> None:
    parsed = parse_llm_output('{"diseases": {"I10": true}}', hierarchy)

    assert parsed.codes == ()
    assert parsed.problem == '"diseases" is dict, not a list of codes'


@pytest.mark.parametrize(
    "text",
    [
        "I21.4\nE11.65",
        "I21.4, E11.65",
        "Codes:\n1. I21.4 - NSTEMI\n2. E11.65",
        '["I21.4", "E11.65"]',
        "<think>Troponin rose.</think>\nI21.4\nE11.65",
    ],
)
def test_bare_code_lists_are_a_known_format(hierarchy: Hierarchy, text: str) -> None:
    parsed = parse_llm_output(text, hierarchy)

    assert keys(parsed) == ["I214", "E1165"]
    assert parsed.problem == ""


def test_codes_in_prose_are_picked_with_a_problem(hierarchy: Hierarchy) -> None:
    parsed = parse_llm_output("The patient had an NSTEMI (I21.4) and E11.65; a1c high.", hierarchy)

    assert keys(parsed) == ["I214", "E1165"]
    assert parsed.problem == FREE_TEXT


def test_prose_outside_the_reasoning_is_preferred(hierarchy: Hierarchy) -> None:
    text = "<think>I10 was ruled out.</think>\nFinal answer is I21.4."

    parsed = parse_llm_output(text, hierarchy)

    assert (keys(parsed), parsed.reasoning, parsed.problem) == (
        ["I214"],
        "I10 was ruled out.",
        FREE_TEXT,
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "the output is empty"),
        ("  \n\t", "the output is empty"),
        ("I cannot code this note.", NOTHING_READABLE),
        ("<think>The note is too short to code.</think>", NOTHING_READABLE),
        ("<think>Still thinking about the history", NOTHING_READABLE),
        ("</diagnosis>", NOTHING_READABLE),
    ],
)
def test_nothing_readable_says_so(hierarchy: Hierarchy, text: str, problem: str) -> None:
    parsed = parse_llm_output(text, hierarchy)

    assert parsed.codes == ()
    assert parsed.problem == problem


def test_only_a_think_block_keeps_the_reasoning(hierarchy: Hierarchy) -> None:
    parsed = parse_llm_output("<think>The note is too short to code.</think>", hierarchy)

    assert parsed.reasoning == "The note is too short to code."


def test_markup_in_the_reasoning_comes_back_verbatim(hierarchy: Hierarchy) -> None:
    reasoning = '<script>alert("x")</script> <b>A1c</b> &amp; <img src=x onerror=alert(1)>'

    parsed = parse_llm_output(f"<think>{reasoning}</think><diagnosis>E11.65</diagnosis>", hierarchy)

    assert parsed.reasoning == reasoning
    assert keys(parsed) == ["E1165"]


def test_more_than_max_codes_are_cut_and_said(hierarchy: Hierarchy) -> None:
    billable = [entry.dotted for entry in hierarchy if entry.billable][: MAX_CODES + 5]

    parsed = parse_llm_output("<diagnosis>" + "\n".join(billable) + "</diagnosis>", hierarchy)

    assert len(parsed.codes) == MAX_CODES
    assert parsed.problem == f"more than {MAX_CODES} codes; the rest were cut"


def test_a_runaway_output_is_read_from_its_beginning(hierarchy: Hierarchy) -> None:
    text = "<diagnosis>E11.65</diagnosis>" + "x" * MAX_SCANNED

    parsed = parse_llm_output(text, hierarchy)

    assert keys(parsed) == ["E1165"]
    assert parsed.problem == (
        f"the output is {len(text)} characters long; only the first {MAX_SCANNED} were read"
    )


def test_text_is_required(hierarchy: Hierarchy) -> None:
    with pytest.raises(TypeError, match="an LLM output is text, not bytes"):
        parse_llm_output(b"E11.65", hierarchy)  # type: ignore[arg-type]  # the point of the test
