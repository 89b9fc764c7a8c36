"""The mention lexicon: what it learns from decisions and what it matches."""

from __future__ import annotations

import pytest

from coding_app.codes.hierarchy import Hierarchy
from tests.coding_app.test_codes_support import packaged_hierarchy
from worker.backends.embedding.signals.lexicon import (
    LabelledMentions,
    LexiconSettings,
    lexicon_fit,
    lexicon_match,
)
from worker.backends.embedding.signals.mentions import analyse
from worker.backends.embedding.signals.terminology import terminology_build


@pytest.fixture(scope="module")
def hierarchy() -> Hierarchy:
    return packaged_hierarchy()


def labelled(text: str, *codes: str, **evidence: list[str]) -> LabelledMentions:
    return LabelledMentions(analyse(text), frozenset(codes), evidence)


TRAINING = [
    labelled("Breast cancer diagnosed on biopsy.", "C50919"),
    labelled("Breast cancer of the left breast, stage II.", "C50919", "I10"),
    labelled("Known breast cancer, on tamoxifen.", "C50919"),
    labelled("Type 2 diabetes on metformin.", "E119"),
    labelled("Type 2 diabetes, glucose 250.", "E119", "I10"),
    labelled("Chest pain at rest.", "R079"),
]


def test_phrases_are_learned_from_the_notes_that_got_the_code() -> None:
    lexicon = lexicon_fit(TRAINING, LexiconSettings())
    codes = {code for code, _, _ in lexicon.affirmed["breast cancer"]}
    assert codes == {"C50919"}
    (code, precision, support) = lexicon.affirmed["type 2 diabetes"][0]
    assert (code, support) == ("E119", 2)
    assert precision == pytest.approx(2 / 4)
    # Seen once: not enough support to evidence anything.
    assert "chest pain" not in lexicon.affirmed


def test_negated_and_family_mentions_do_not_evidence_the_condition(hierarchy: Hierarchy) -> None:
    lexicon = lexicon_fit(TRAINING, LexiconSettings())
    note = analyse("Her mother had breast cancer. The patient has no type 2 diabetes.")
    hits = lexicon_match(lexicon, note, hierarchy)
    assert "C50919" not in hits
    assert hits["Z803"].family
    assert hits["Z803"].score > 0
    assert hits["E119"].score == 0
    assert hits["E119"].negated >= 1
    affirmed = lexicon_match(lexicon, analyse("She has type 2 diabetes."), hierarchy)
    assert affirmed["E119"].score > 0
    assert affirmed["E119"].phrase == "type 2 diabetes"


def test_a_coder_marked_phrase_is_evidence_from_the_first_mark(hierarchy: Hierarchy) -> None:
    notes = [*TRAINING, labelled("Left renal colic since dawn.", "N23", N23=["renal colic"])]
    lexicon = lexicon_fit(notes, LexiconSettings())
    (code, precision, support) = lexicon.affirmed["renal colic"][0]
    assert (code, support) == ("N23", 1)
    assert precision >= 0.5
    hits = lexicon_match(lexicon, analyse("Renal colic again."), hierarchy)
    assert hits["N23"].score >= 0.5
    # Evidence on a code the note did not keep teaches nothing.
    stray = [labelled("Renal colic.", "R52", N23=["renal colic"])]
    assert "renal colic" not in lexicon_fit(stray, LexiconSettings()).affirmed


def test_the_code_set_names_codes_no_coder_gave_yet(hierarchy: Hierarchy) -> None:
    terminology = terminology_build(hierarchy)
    assert terminology["fever"] == ("R509",)
    assert terminology["essential hypertension"] == ("I10",)
    assert all(len(codes) <= 3 for codes in terminology.values())
