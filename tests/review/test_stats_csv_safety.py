"""coding_app.csv_safety: cells a spreadsheet would run are made text."""

from __future__ import annotations

import pytest

from coding_app.csv_safety import csv_lines, csv_safe_cell


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\t=x", "'\t=x"),
        ("-", "'-"),
        ("E11.65", "E11.65"),
        ("-0.25", "-0.25"),
        ("+1e-3", "+1e-3"),
        (-0.5, "-0.5"),
        (3, "3"),
        (None, ""),
        (True, "true"),
    ],
)
def test_formula_starts_get_an_apostrophe_numbers_do_not(value: object, written: str) -> None:
    assert csv_safe_cell(value) == written


def test_lines_are_quoted_csv_with_every_cell_neutralised() -> None:
    lines = list(csv_lines([["code", "note"], ['=HYPERLINK("x")', "a, b"]]))
    assert lines == ["code,note\r\n", '"\'=HYPERLINK(""x"")","a, b"\r\n']
