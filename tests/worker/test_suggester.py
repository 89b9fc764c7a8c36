"""The trained embedding model: fitted on reviewed notes, saved, loaded by
the backend, and better than the zero-shot start on notes it never saw.

The code index covers only the categories around the synthetic corpus's
codes, so it builds in seconds, once for the module.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from coding_app.codes.hierarchy import Hierarchy
from tests.coding_app.test_codes_support import packaged_hierarchy
from tests.worker.synthetic_corpus import CONDITIONS, NEIGHBOUR_CATEGORIES, synthetic_notes
from worker.backends.base import BackendConfigError, BackendSpec, NotePrediction, NoteText
from worker.backends.embedding.backend import EmbeddingBackend
from worker.backends.embedding.encoder import PACKAGED_ENCODER
from worker.backends.embedding.signals.feedback import ReviewedNote
from worker.backends.embedding.signals.fit import (
    FitSettings,
    Fitted,
    NotEnoughExamples,
    suggester_fit,
)
from worker.backends.embedding.signals.ranker import RankerSettings, ranker_fit
from worker.backends.embedding.signals.store import MANIFEST, RECIPE, suggester_save
from worker.backends.embedding.signals.terminology import terminology_build
from worker.backends.embedding.zero_shot import zero_shot_scores

MakeBackend = Callable[..., EmbeddingBackend]


@pytest.fixture(scope="module")
def hierarchy() -> Hierarchy:
    return packaged_hierarchy()


@pytest.fixture(scope="module")
def make_backend(hierarchy: Hierarchy, tmp_path_factory: pytest.TempPathFactory) -> MakeBackend:
    entries = [e for e in hierarchy if e.category in NEIGHBOUR_CATEGORIES]
    cache = tmp_path_factory.mktemp("suggester-cache")

    def make(adapter_path: str = "", **options: Any) -> EmbeddingBackend:
        spec = BackendSpec(
            "embedding-test", "embedding", PACKAGED_ENCODER, adapter_path, "", options
        )
        return EmbeddingBackend(spec, hierarchy, cache_dir=cache, release_key="r", entries=entries)

    return make


def fit(notes: list[ReviewedNote], backend: EmbeddingBackend, hierarchy: Hierarchy) -> Fitted:
    known = frozenset(backend.index.codes)
    return suggester_fit(
        notes,
        hierarchy=hierarchy,
        terminology=terminology_build(e for e in hierarchy if e.code in known),
        zero_shot=lambda texts: zero_shot_scores(
            backend.encoder, backend.index, texts, backend.options
        ),
        settings=FitSettings(folds=4),
    )


@pytest.fixture(scope="module")
def trained(
    make_backend: MakeBackend, hierarchy: Hierarchy, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    zero_shot = make_backend()
    fitted = fit(synthetic_notes(80, (0, 1), seed=1), zero_shot, hierarchy)
    folder = tmp_path_factory.mktemp("suggester")
    return suggester_save(fitted, folder, encoder=PACKAGED_ENCODER, release_key="r", settings={})


def micro_f1(predictions: list[NotePrediction], notes: list[ReviewedNote]) -> float:
    hits = sum(
        len(set(p.suggested_codes()) & n.codes) for p, n in zip(predictions, notes, strict=True)
    )
    said = sum(len(p.suggested_codes()) for p in predictions)
    gold = sum(len(n.codes) for n in notes)
    return 2 * hits / max(said + gold, 1)


def test_the_trained_model_beats_the_zero_shot_start(
    make_backend: MakeBackend, trained: Path
) -> None:
    notes = synthetic_notes(30, (0, 1), seed=7)
    texts = [NoteText(n.note_id, n.text) for n in notes]
    learned = make_backend(str(trained)).predict(texts)
    start = make_backend().predict(texts)
    assert micro_f1(learned, notes) >= 0.8
    assert micro_f1(learned, notes) > micro_f1(start, notes) + 0.3


def test_each_suggestion_is_explained_and_evidenced(
    make_backend: MakeBackend, trained: Path
) -> None:
    note = synthetic_notes(1, (0,), seed=11)[0]
    prediction = make_backend(str(trained)).predict([NoteText(1, note.text)])[0]
    assert prediction.prompt_version == RECIPE
    assert json.loads(prediction.raw_output)["recipe"] == RECIPE
    assert len(prediction.ranked) > len(prediction.codes)
    scores = [score for _, score in prediction.ranked]
    assert scores == sorted(scores, reverse=True)
    phrases = {code: said for codes, said in CONDITIONS.values() for code in codes}
    for suggestion in prediction.codes:
        assert suggestion.score is not None
        assert 0 <= suggestion.score <= 1
        assert "reviewed note" in suggestion.rationale
        sentences = [note.text[s:e] for s, e in suggestion.evidence]
        assert any(sentence in phrases[suggestion.code] for sentence in sentences)


def test_the_cut_off_and_its_figures_are_stored_with_the_model(trained: Path) -> None:
    manifest = json.loads((trained / MANIFEST).read_text())
    assert manifest["recipe"] == RECIPE
    assert manifest["encoder"] == PACKAGED_ENCODER
    assert 0 < manifest["cutoff"] <= 1
    assert manifest["validation"]["f1"] > 0.5
    assert manifest["notes"] == 80


def test_a_suggester_for_another_encoder_or_a_broken_folder_is_refused(
    make_backend: MakeBackend, trained: Path, tmp_path: Path
) -> None:
    manifest = json.loads((trained / MANIFEST).read_text())
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / MANIFEST).write_text(json.dumps({**manifest, "encoder": "another/encoder"}))
    (foreign / "signals.joblib").write_bytes((trained / "signals.joblib").read_bytes())
    with pytest.raises(BackendConfigError, match="trained with the encoder 'another/encoder'"):
        make_backend(str(foreign))
    (foreign / "signals.joblib").write_bytes(b"not a pickle")
    with pytest.raises(BackendConfigError, match="does not hold a readable suggester"):
        make_backend(str(foreign))


def test_a_suggester_of_an_older_recipe_is_refused_with_what_to_do(
    make_backend: MakeBackend, trained: Path, tmp_path: Path
) -> None:
    manifest = json.loads((trained / MANIFEST).read_text())
    older = tmp_path / "older"
    older.mkdir()
    # An embedding-v2 suggester: its ranker read 18 features and its manifest
    # did not list them.
    del manifest["features"]
    (older / MANIFEST).write_text(json.dumps({**manifest, "recipe": "embedding-v2"}))
    (older / "signals.joblib").write_bytes((trained / "signals.joblib").read_bytes())
    with pytest.raises(BackendConfigError, match=r"recipe 'embedding-v2'.*head run"):
        make_backend(str(older))


def test_too_few_notes_cannot_train(make_backend: MakeBackend, hierarchy: Hierarchy) -> None:
    with pytest.raises(NotEnoughExamples, match="at least 2"):
        fit(synthetic_notes(1, (0,), seed=3), make_backend(), hierarchy)


def test_the_cut_off_maximises_f1_on_held_out_notes() -> None:
    chooser = np.random.default_rng(0)
    labels = chooser.random(600) < 0.3
    rows = (labels[:, None] * 1.0 + chooser.normal(0, 0.6, (600, 3))).astype(np.float32)
    groups = np.repeat(np.arange(60), 10)
    ranker = ranker_fit(rows, labels.astype(np.int8), groups, 20, RankerSettings(iterations=30))
    probabilities = ranker.probabilities(rows)
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    assert probabilities[labels].mean() > probabilities[~labels].mean() + 0.3
    figures = ranker.validation
    assert figures["cutoff"] == ranker.cutoff
    assert 2 * figures["precision"] * figures["recall"] / (
        figures["precision"] + figures["recall"]
    ) == pytest.approx(figures["f1"])
    with pytest.raises(ValueError, match="some that are not"):
        ranker_fit(rows, np.ones(600, dtype=np.int8), groups, 0, RankerSettings())


def test_a_calibration_step_is_ordered_by_the_ranker_s_own_score() -> None:
    chooser = np.random.default_rng(1)
    labels = chooser.random(600) < 0.3
    rows = (labels[:, None] * 1.0 + chooser.normal(0, 0.6, (600, 3))).astype(np.float32)
    ranker = ranker_fit(
        rows, labels.astype(np.int8), np.repeat(np.arange(60), 10), 0, RankerSettings(iterations=30)
    )
    calibrated, raw = ranker.scored(rows)
    # Isotonic steps: far fewer probabilities than rows, so ties are common
    # and the ranking inside a step comes from the raw score...
    assert len(np.unique(calibrated)) < len(rows) / 5
    # ...which the calibration never contradicts.
    by_raw = np.argsort(raw, kind="stable")
    assert (np.diff(calibrated[by_raw]) >= 0).all()
