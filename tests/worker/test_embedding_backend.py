"""The embedding backend ranks codes against a note's sentences.

The index covers chapters 4 (endocrine) and 10 (respiratory) only, so it is
built in seconds, once for the module; every backend here reads it back from
the same cache folder.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from coding_app.codes.entry import CodeEntry
from coding_app.codes.forms import dotted
from coding_app.codes.hierarchy import Hierarchy
from tests.coding_app.test_codes_support import packaged_hierarchy
from worker.backends.base import BackendConfigError, BackendSpec, NotePrediction, NoteText
from worker.backends.embedding import backend as embedding_backend
from worker.backends.embedding import code_index
from worker.backends.embedding.backend import PROMPT_VERSION, EmbeddingBackend
from worker.backends.embedding.encoder import PACKAGED_ENCODER
from worker.backends.embedding.ranking import ranking_options
from worker.backends.embedding.rationale import QUOTE_CHARS

MakeBackend = Callable[..., EmbeddingBackend]

DIABETES = (
    "68-year-old man seen for follow-up.\n"
    "He has type 2 diabetes mellitus with hyperglycemia despite metformin.\n"
    "No chest pain today.\n"
)
PNEUMONIA = (
    "Fever and productive cough for five days.\n"
    "Chest X-ray shows pneumonia of the right lower lobe.\n"
)
ASTHMA = "Known asthma since childhood. Wheezing at night. Uses an inhaler."


@pytest.fixture(scope="module")
def hierarchy() -> Hierarchy:
    return packaged_hierarchy()


@pytest.fixture(scope="module")
def entries(hierarchy: Hierarchy) -> list[CodeEntry]:
    return [entry for entry in hierarchy if entry.chapter in {"4", "10"}]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embedding-cache")


@pytest.fixture(scope="module")
def make_backend(hierarchy: Hierarchy, entries: list[CodeEntry], cache_dir: Path) -> MakeBackend:
    def make(
        adapter_path: str = "", base_model: str = PACKAGED_ENCODER, **options: Any
    ) -> EmbeddingBackend:
        spec = BackendSpec(
            name="embedding-test",
            backend="embedding",
            base_model=base_model,
            adapter_path=adapter_path,
            options=options,
        )
        return EmbeddingBackend(
            spec, hierarchy, cache_dir=cache_dir, release_key="test-release", entries=entries
        )

    return make


@pytest.fixture(scope="module")
def backend(make_backend: MakeBackend) -> EmbeddingBackend:
    return make_backend()


@pytest.fixture(scope="module")
def diabetes(backend: EmbeddingBackend) -> NotePrediction:
    return backend.predict([NoteText(note_id=1, text=DIABETES)])[0]


def span_text(text: str, span: tuple[int, int]) -> str:
    return text[span[0] : span[1]]


def test_a_diabetes_note_gets_type_2_diabetes_codes(diabetes: NotePrediction) -> None:
    assert diabetes.parse_problem == ""
    assert diabetes.prompt_version == PROMPT_VERSION
    assert diabetes.codes
    assert diabetes.codes[0].code.startswith("E11")
    assert all(code.valid and code.problem == "" for code in diabetes.codes)


def test_evidence_points_at_the_sentences_that_support_the_code(
    diabetes: NotePrediction, hierarchy: Hierarchy
) -> None:
    first = diabetes.codes[0]
    assert first.evidence
    assert "diabetes" in span_text(DIABETES, first.evidence[0])
    for code in diabetes.codes:
        assert len(code.evidence) <= 3
        assert list(code.evidence) == sorted(set(code.evidence))
        for start, end in code.evidence:
            assert 0 <= start < end <= len(DIABETES)
            assert DIABETES[start:end] == DIABETES[start:end].strip()
    entry = hierarchy.entry(first.code)
    assert entry is not None
    assert first.rationale.startswith("Suggested because the note says “He has type 2 diabetes")
    assert "(similarity 0." in first.rationale
    assert entry.description in first.rationale


def test_scores_are_probabilities_in_descending_order(diabetes: NotePrediction) -> None:
    scores = [code.score for code in diabetes.codes]
    assert all(score is not None and 0.0 <= score <= 1.0 for score in scores)
    assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]  # None ruled out above
    assert len({code.code for code in diabetes.codes}) == len(diabetes.codes)


def test_raw_output_lists_the_ranked_candidates(diabetes: NotePrediction) -> None:
    raw = json.loads(diabetes.raw_output)
    assert raw["recipe"] == PROMPT_VERSION
    assert raw["sentences"] == 3
    candidates = raw["candidates"]
    assert len(candidates) == 20
    assert [c["score"] for c in candidates] == sorted(
        (c["score"] for c in candidates), reverse=True
    )
    assert candidates[0]["code"] == diabetes.codes[0].code
    assert all(-1 <= c["similarity"] <= 1 for c in candidates)
    assert "billable codes against the note's 3 sentence(s)" in diabetes.reasoning
    # Codes a person reads are dotted.
    assert dotted(diabetes.codes[0].code) in diabetes.reasoning
    assert diabetes.codes[0].code not in diabetes.reasoning


def test_one_code_a_category_unless_told_otherwise(
    diabetes: NotePrediction, make_backend: MakeBackend
) -> None:
    categories = [code.code[:3] for code in diabetes.codes]
    assert len(categories) == len(set(categories))
    loose = make_backend(per_category=0, top_k=10, threshold=0.0)
    codes = [c.code for c in loose.predict([NoteText(note_id=1, text=DIABETES)])[0].codes]
    assert sum(code.startswith("E11") for code in codes) >= 2


def test_top_k_and_threshold_cut_the_list(make_backend: MakeBackend) -> None:
    note = [NoteText(note_id=1, text=DIABETES)]
    assert len(make_backend(top_k=2, threshold=0.0).predict(note)[0].codes) == 2
    assert len(make_backend(top_k=7, threshold=0.0).predict(note)[0].codes) == 7
    strict = make_backend(threshold=0.99).predict(note)[0]
    assert strict.codes == ()
    assert strict.parse_problem == ""
    assert "No code reached the cut-off 0.99" in strict.reasoning
    middle = make_backend(threshold=0.03, top_k=50).predict(note)[0]
    assert middle.codes
    assert all(code.score is not None and code.score >= 0.03 for code in middle.codes)


def test_the_evidence_floor_decides_which_sentences_count(make_backend: MakeBackend) -> None:
    note = [NoteText(note_id=1, text=DIABETES)]
    none = make_backend(evidence_floor=0.99).predict(note)[0]
    assert none.codes
    assert all(code.evidence == () for code in none.codes)
    assert "no sentence is close to" in none.codes[0].rationale
    every = make_backend(evidence_floor=-1.0).predict(note)[0]
    assert all(len(code.evidence) == 3 for code in every.codes)
    assert "2 more sentences support it." in every.codes[0].rationale


def test_a_batch_keeps_its_order_and_matches_notes_predicted_alone(
    backend: EmbeddingBackend,
) -> None:
    notes = [
        NoteText(note_id=30, text=PNEUMONIA),
        NoteText(note_id=10, text=DIABETES),
        NoteText(note_id=20, text=ASTHMA),
    ]
    batch = backend.predict(notes)
    assert [p.note_id for p in batch] == [30, 10, 20]
    for note, prediction in zip(notes, batch, strict=True):
        alone = backend.predict([note])[0]
        assert [c.code for c in prediction.codes] == [c.code for c in alone.codes]
        assert [c.evidence for c in prediction.codes] == [c.evidence for c in alone.codes]
    assert "pneumonia" in batch[0].codes[0].rationale.split("matches")[1].lower()
    assert batch[2].codes[0].code.startswith("J45")  # asthma


def test_blocks_of_notes_give_the_same_answers_as_one_block(
    backend: EmbeddingBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_note = "\n".join(f"Line {i}: stable, no new complaints." for i in range(9)) + "\n" + ASTHMA
    notes = [
        NoteText(note_id=1, text=DIABETES),
        NoteText(note_id=2, text=long_note),
        NoteText(note_id=3, text="  "),
        NoteText(note_id=4, text=PNEUMONIA),
    ]
    whole = backend.predict(notes)
    monkeypatch.setattr(code_index, "SIMILARITY_BLOCK", 4)
    monkeypatch.setattr(embedding_backend, "BLOCK_SENTENCES", 4)
    pieces = backend.predict(notes)
    for one, other in zip(whole, pieces, strict=True):
        assert [c.code for c in one.codes] == [c.code for c in other.codes]
        for a, b in zip(one.codes, other.codes, strict=True):
            assert a.score == pytest.approx(b.score, abs=1e-4)


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n"])
def test_a_note_without_text_gets_a_parse_problem(backend: EmbeddingBackend, text: str) -> None:
    notes = [NoteText(note_id=1, text=DIABETES), NoteText(note_id=2, text=text)]
    first, empty = backend.predict(notes)
    assert first.codes
    assert empty.note_id == 2
    assert empty.codes == ()
    assert empty.parse_problem == "The note has no text to embed (it is empty or only whitespace)."


def test_an_empty_batch_gives_no_predictions(backend: EmbeddingBackend) -> None:
    assert backend.predict([]) == []


def test_long_sentences_are_quoted_short(backend: EmbeddingBackend) -> None:
    text = "The patient has type 2 diabetes mellitus " + "and many other findings " * 10 + "today."
    code = backend.predict([NoteText(note_id=1, text=text)])[0].codes[0]
    quote = code.rationale.split("“")[1].split("”")[0]
    assert len(quote) <= QUOTE_CHARS
    assert quote.endswith("…")


def test_the_job_options_of_a_version_are_not_refused_as_unknown() -> None:
    # job_batch_size is read by the prediction job; refusing it would fail
    # every job of a version that sets it.
    assert ranking_options({"job_batch_size": 4, "top_k": 3}).top_k == 3


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"temperature": 0.2}, "Unknown option"),
        ({"top_k": 2.5}, "top_k must be a whole number"),
        ({"top_k": True}, "top_k must be a whole number"),
        ({"top_k": 0}, r"top_k must be in \[1, 1000\]"),
        ({"threshold": "high"}, "threshold must be a number"),
        ({"threshold": 1.5}, "threshold must be in"),
        ({"threshold": float("nan")}, "threshold must be a number"),
        ({"calibration_a": -1}, "calibration_a must be in"),
    ],
)
def test_bad_options_are_config_errors(
    make_backend: MakeBackend, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(BackendConfigError, match=message):
        make_backend(**options)


def test_an_unloadable_encoder_is_a_config_error(make_backend: MakeBackend) -> None:
    with pytest.raises(BackendConfigError, match="Cannot load the sentence encoder"):
        make_backend(base_model="/no/such/encoder")


# A trained version


def test_an_adapter_that_is_not_a_suggester_is_a_config_error(
    make_backend: MakeBackend, tmp_path: Path
) -> None:
    (tmp_path / "head.safetensors").write_bytes(b"old linear head")
    with pytest.raises(BackendConfigError, match="not a trained suggester folder"):
        make_backend(adapter_path=str(tmp_path))
