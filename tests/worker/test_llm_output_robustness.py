"""Reading LLM outputs of any size and shape: fast, bounded, never a crash."""

from __future__ import annotations

import json
import random
import string
import time
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coding_app.codes.completion import MAX_CODES
from tests.coding_app.test_codes_support import packaged_hierarchy
from worker.backends.llm.output import parse_llm_output

HIERARCHY = packaged_hierarchy()


def _garbage(alphabet: str, size: int = 1_000_000) -> str:
    rng = random.Random(7)
    return "".join(rng.choices(alphabet, k=size))


# Built when the test runs, not when the module is collected.
GARBAGE: dict[str, Callable[[], str]] = {
    "printable": lambda: _garbage(string.printable),
    "codes alphabet": lambda: _garbage(string.ascii_uppercase + string.digits + " .,:\n"),
    "format alphabet": lambda: _garbage('{}[]":, diseasescode<>/thinkdiagnosis'),
    "json keys": lambda: '{"diseases": ' * 80_000,
    "unclosed string": lambda: '{"diseases": "' + "E1" * 500_000,
    "deep nesting": lambda: '{"diseases": ' + "[" * 1_000_000,
    "spaces after <": lambda: "<" + " " * 1_000_000,
    "tags": lambda: "<think><diagnosis>" * 60_000,
    "colons": lambda: ":" * 1_000_000,
    "codes": lambda: "E11.65 I10 XYZ\n" * 70_000,
}


@pytest.mark.parametrize("kind", GARBAGE)
def test_a_megabyte_of_garbage_parses_fast(kind: str) -> None:
    text = GARBAGE[kind]()
    started = time.perf_counter()
    parsed = parse_llm_output(text, HIERARCHY)
    elapsed = time.perf_counter() - started

    # Milliseconds in practice; the bound only catches runaway backtracking.
    assert elapsed < 0.5
    assert len(parsed.codes) <= MAX_CODES


format_like = st.builds(
    "{}<think>{}</think>{}<diagnosis>{}</diagnosis>{}".format,
    *[st.text(max_size=40)] * 5,
)
json_like = st.builds(
    '{{"diseases": [{}], "reason": {}}}'.format,
    st.lists(st.from_regex(r'"[A-Za-z0-9. \-]{0,10}"', fullmatch=True)).map(", ".join),
    st.text(max_size=20).map(json.dumps),
)
code_like = st.lists(
    st.from_regex(r"[A-Za-z][0-9A-Za-z]{2}\.?[0-9A-Za-z]{0,5}", fullmatch=True)
    | st.sampled_from(["E11.65", "I21.4", "E11", "S72.001A", "XYZ"]),
    max_size=8,
).map(lambda codes: "\n".join(codes))


@settings(max_examples=300, deadline=None)
@given(text=st.text() | format_like | json_like | code_like)
def test_any_text_parses_and_valid_codes_are_billable(text: str) -> None:
    parsed = parse_llm_output(text, HIERARCHY)

    assert len(parsed.codes) <= MAX_CODES
    for code in parsed.codes:
        if code.valid:
            entry = HIERARCHY.entry(code.code)
            assert entry is not None
            assert entry.billable
            assert code.problem == ""
        else:
            assert 0 < len(code.code) <= 40
            assert code.problem
        assert code.score is None
    valid = [code.code for code in parsed.codes if code.valid]
    assert len(valid) == len(set(valid))
