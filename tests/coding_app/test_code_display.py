"""Codes as people read them: dotted and described, on every page."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from coding_app.codes.display import code_label, codes_in_text
from coding_app.codes.hierarchy import Hierarchy
from tests.coding_app.test_codes_support import ensure_code_set_loaded, packaged_hierarchy


@pytest.fixture(scope="module")
def hierarchy() -> Hierarchy:
    return packaged_hierarchy()


def test_a_stored_key_reads_dotted_with_its_description(hierarchy: Hierarchy) -> None:
    label = code_label("I214", hierarchy)
    assert (label.code, label.description) == (
        "I21.4",
        "Non-ST elevation (NSTEMI) myocardial infarction",
    )
    assert str(code_label("i21.4", hierarchy)) == str(label)


def test_a_code_the_release_lacks_is_dotted_and_other_text_kept(hierarchy: Hierarchy) -> None:
    assert str(code_label("Z9999", hierarchy)) == "Z99.99"
    assert str(code_label("chapter 9", hierarchy)) == "chapter 9"
    assert str(code_label("I214", None)) == "I21.4"


def test_codes_in_a_models_text_are_picked_out(hierarchy: Hierarchy) -> None:
    text = "Kept 2 code(s): R591 (0.115), I21.4 (0.090). A1C 7.2, Q12H dosing, XI214."
    pieces = codes_in_text(text, hierarchy)
    assert "".join(p.text for p in pieces) == text
    assert [p.label.code for p in pieces if p.label] == ["R59.1", "I21.4"]


@pytest.mark.django_db
def test_the_template_tags_dot_and_describe(django_db_blocker: object) -> None:
    ensure_code_set_loaded(django_db_blocker)  # the tags read the active release
    rendered = Template(
        "{% load codes %}{% code_label 'E1165' %}|{% code_labels codes %}|"
        "{% codes_in_text text %}|{{ 'R591'|dotted_code }}"
    ).render(Context({"codes": ["I10", "R591"], "text": "R591 <b>"}))
    assert rendered == (
        '<span class="code-label">E11.65 <span class="code-description">'
        "Type 2 diabetes mellitus with hyperglycemia</span></span>|"
        '<span class="code-label">I10 <span class="code-description">'
        "Essential (primary) hypertension</span></span>; "
        '<span class="code-label">R59.1 <span class="code-description">'
        "Generalized enlarged lymph nodes</span></span>|"
        '<span class="code-label">R59.1 <span class="code-description">'
        "Generalized enlarged lymph nodes</span></span> &lt;b&gt;|R59.1"
    )
