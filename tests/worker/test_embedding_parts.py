"""The pieces of the embedding model: sentences, encoder, code index."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from sentence_transformers import SentenceTransformer

from coding_app.codes.entry import CodeEntry
from coding_app.codes.hierarchy import Hierarchy
from tests.coding_app.test_codes_support import packaged_hierarchy
from worker.backends.base import BackendConfigError
from worker.backends.embedding import code_index as code_index_module
from worker.backends.embedding.code_index import (
    CodeIndex,
    CodeMatrix,
    code_index_build,
    code_index_load_or_build,
    code_index_texts,
)
from worker.backends.embedding.encoder import PACKAGED_ENCODER, encoder_dimension, load_encoder
from worker.backends.embedding.sentences import split_sentences

# A few codes with and without inclusion terms, enough to rank something.
SMALL_CODES = ("E119", "E1165", "E001", "E009", "I10", "I2109", "J189", "J45909", "N390")


@pytest.fixture(scope="module")
def hierarchy() -> Hierarchy:
    return packaged_hierarchy()


@pytest.fixture(scope="module")
def encoder() -> SentenceTransformer:
    return load_encoder(PACKAGED_ENCODER)


@pytest.fixture(scope="module")
def small_entries(hierarchy: Hierarchy) -> list[CodeEntry]:
    entries = [hierarchy.entry(code) for code in SMALL_CODES]
    return [entry for entry in entries if entry is not None]


@pytest.fixture
def encode_calls(encoder: SentenceTransformer, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the texts of every ``encode`` call on the shared encoder."""
    calls: list[int] = []
    original = encoder.encode

    def counting(inputs: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(len(inputs))
        return original(inputs, *args, **kwargs)

    monkeypatch.setattr(encoder, "encode", counting)
    return calls


def truncate(path: Path, size: int) -> None:
    path.write_bytes(path.read_bytes()[:size])


def span_texts(text: str) -> list[str]:
    return [text[start:end] for start, end in split_sentences(text)]


# Sentences


def test_one_sentence_a_line_with_blank_lines_dropped() -> None:
    text = "Chest pain.\n\n   \nType 2 diabetes\r\n  Fever for 3 days.  \n"
    assert span_texts(text) == ["Chest pain.", "Type 2 diabetes", "Fever for 3 days."]


def test_prose_is_cut_at_full_stops_but_not_abbreviations_or_decimals() -> None:
    text = "Dr. Smith saw the pt. today. Temp 40.2 °C. He has e.g. asthma! J. Doe agreed. Fine."
    assert span_texts(text) == [
        "Dr. Smith saw the pt. today.",
        "Temp 40.2 °C.",
        "He has e.g. asthma!",
        "J. Doe agreed.",
        "Fine.",
    ]


def test_a_unit_before_a_full_stop_ends_the_sentence() -> None:
    assert span_texts("A lesion of 5 mm. The patient was stable.") == [
        "A lesion of 5 mm.",
        "The patient was stable.",
    ]


def test_long_lines_are_cut_at_commas_or_spaces_within_the_limit() -> None:
    text = "  " + ", ".join(f"finding number {i}" for i in range(60)) + "\nShort one."
    spans = split_sentences(text, max_chars=100)
    assert all(0 < end - start <= 100 for start, end in spans)
    assert all(not text[start].isspace() and not text[end - 1].isspace() for start, end in spans)
    assert text[spans[0][0] : spans[0][1]].endswith(",")
    assert text[spans[-1][0] : spans[-1][1]] == "Short one."
    joined = " ".join(text[start:end] for start, end in spans[:-1])
    assert joined == text.split("\n")[0].strip()


def test_a_line_without_spaces_is_cut_hard() -> None:
    spans = split_sentences("x" * 250, max_chars=100)
    assert spans == [(0, 100), (100, 200), (200, 250)]


def test_empty_and_whitespace_text_have_no_sentences() -> None:
    assert split_sentences("") == []
    assert split_sentences(" \n\t\r\n ") == []


def test_split_sentences_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="needs a str"):
        split_sentences(None)  # type: ignore[arg-type]  # the bad input under test
    with pytest.raises(ValueError, match="max_chars"):
        split_sentences("text", max_chars=5)


# Encoder


def test_the_packaged_encoder_loads_once_and_embeds_384_dimensions(
    encoder: SentenceTransformer,
) -> None:
    assert load_encoder(PACKAGED_ENCODER) is encoder
    assert encoder_dimension(encoder) == 384
    assert str(encoder.device) == ("cuda:0" if torch.cuda.is_available() else "cpu")


@pytest.mark.parametrize("name", ["", "   ", "/no/such/model", "nobody/not-in-the-cache"])
def test_an_encoder_that_cannot_load_is_a_config_error(name: str) -> None:
    with pytest.raises(BackendConfigError, match="encoder"):
        load_encoder(name)


# Code index


def test_index_holds_billable_codes_with_a_row_per_text(
    hierarchy: Hierarchy, encoder: SentenceTransformer, small_entries: list[CodeEntry]
) -> None:
    chapter = hierarchy.entry("4")
    assert chapter is not None
    assert not chapter.billable
    index = code_index_build(
        [chapter, *small_entries], encoder, encoder_name=PACKAGED_ENCODER, release_key="r1"
    )
    assert index.codes == SMALL_CODES
    texts = [code_index_texts(entry) for entry in small_entries]
    assert len(index.vectors) == sum(len(t) for t in texts)
    assert np.allclose(np.linalg.norm(index.vectors, axis=1), 1.0, atol=1e-5)
    position = index.positions["E001"]
    assert len(texts[position]) == 3  # description and two inclusion terms
    rows = index.code_rows(position)
    assert rows.shape == (3, 384)
    assert np.allclose(rows[0], index.vectors[position])
    assert index.code_rows(index.positions["I10"]).shape == (len(texts[4]), 384)


def test_an_index_needs_a_billable_code(hierarchy: Hierarchy, encoder: SentenceTransformer) -> None:
    chapter = hierarchy.entry("4")
    assert chapter is not None
    with pytest.raises(ValueError, match="at least one billable code"):
        code_index_build([chapter], encoder, encoder_name=PACKAGED_ENCODER, release_key="r1")


def test_an_index_with_mismatched_rows_is_refused() -> None:
    with pytest.raises(ValueError, match="need as many vectors"):
        CodeIndex(("A000",), np.zeros((2, 4), np.float32), np.zeros(0, np.int64), "e", "r")
    with pytest.raises(ValueError, match="code positions"):
        CodeIndex(("A000",), np.zeros((2, 4), np.float32), np.array([3]), "e", "r")
    with pytest.raises(ValueError, match="unique"):
        CodeIndex(("A000", "A000"), np.zeros((2, 4), np.float32), np.zeros(0, np.int64), "e", "r")


def test_best_similarity_is_the_best_sentence_and_best_text_of_each_code(
    encoder: SentenceTransformer, small_entries: list[CodeEntry]
) -> None:
    index = code_index_build(
        small_entries, encoder, encoder_name=PACKAGED_ENCODER, release_key="r1"
    )
    sentences = encoder.encode(
        ["Endemic cretinism", "pneumonia", "high blood pressure", "asthma", "diabetes"],
        normalize_embeddings=True,
    )
    bounds = [(0, 2), (2, 3), (3, 5)]
    got = CodeMatrix(index, "cpu").best_similarity(torch.from_numpy(sentences), bounds)
    expected = [
        [float((sentences[s:e] @ index.code_rows(p).T).max()) for p in range(len(index))]
        for s, e in bounds
    ]
    assert np.allclose(got.numpy(), expected, atol=1e-5)


def test_the_cache_is_read_back_without_encoding(
    hierarchy: Hierarchy,
    small_entries: list[CodeEntry],
    encoder: SentenceTransformer,
    encode_calls: list[int],
    tmp_path: Path,
) -> None:
    first = code_index_load_or_build(
        hierarchy, encoder, PACKAGED_ENCODER, "r1", tmp_path, entries=small_entries
    )
    assert len(encode_calls) == 1
    second = code_index_load_or_build(
        hierarchy, encoder, PACKAGED_ENCODER, "r1", tmp_path, entries=small_entries
    )
    assert len(encode_calls) == 1
    assert second.codes == first.codes
    assert np.array_equal(np.asarray(second.vectors), first.vectors)
    assert np.array_equal(second.extra_codes, first.extra_codes)
    stem = next(tmp_path.glob("*.npy")).stem
    # The index, its lock and its progress; no temporary files, no parts.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"{stem}.json",
        f"{stem}.lock",
        f"{stem}.npy",
        f"{stem}.progress.json",
    ]


def test_the_cache_key_changes_with_release_encoder_and_codes(
    hierarchy: Hierarchy,
    small_entries: list[CodeEntry],
    encoder: SentenceTransformer,
    encode_calls: list[int],
    tmp_path: Path,
) -> None:
    def build(release_key: str, encoder_name: str, entries: list[CodeEntry]) -> None:
        code_index_load_or_build(
            hierarchy, encoder, encoder_name, release_key, tmp_path, entries=entries
        )

    build("r1", PACKAGED_ENCODER, small_entries)
    build("r2", PACKAGED_ENCODER, small_entries)
    build("r1", "other/encoder", small_entries)
    build("r1", PACKAGED_ENCODER, small_entries[:3])
    assert len(encode_calls) == 4
    names = sorted(p.name for p in tmp_path.glob("*.npy"))
    assert len(names) == 4
    assert any("-r2-" in name for name in names)
    assert any("other-encoder" in name for name in names)


@pytest.mark.parametrize(
    "damage",
    [
        lambda stem: stem.with_suffix(".npy").write_bytes(b"not a numpy file"),
        lambda stem: stem.with_suffix(".npy").write_bytes(
            stem.with_suffix(".npy").read_bytes()[:200]
        ),
        lambda stem: stem.with_suffix(".json").write_text("{truncated"),
        lambda stem: stem.with_suffix(".json").unlink(),
    ],
    ids=["garbage-matrix", "truncated-matrix", "garbage-json", "missing-json"],
)
def test_a_damaged_cache_is_rebuilt_with_a_warning(
    damage: Callable[[Path], object],
    hierarchy: Hierarchy,
    small_entries: list[CodeEntry],
    encoder: SentenceTransformer,
    encode_calls: list[int],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    built = code_index_load_or_build(
        hierarchy, encoder, PACKAGED_ENCODER, "r1", tmp_path, entries=small_entries
    )
    damage(next(tmp_path.glob("*.npy")).with_suffix(""))
    with caplog.at_level(logging.WARNING, logger=code_index_module.__name__):
        rebuilt = code_index_load_or_build(
            hierarchy, encoder, PACKAGED_ENCODER, "r1", tmp_path, entries=small_entries
        )
    assert len(encode_calls) == 2
    assert "Rebuilding the code index" in caplog.text
    assert rebuilt.codes == built.codes
    assert np.allclose(rebuilt.vectors, built.vectors, atol=1e-6)
    code_index_load_or_build(
        hierarchy, encoder, PACKAGED_ENCODER, "r1", tmp_path, entries=small_entries
    )
    assert len(encode_calls) == 2  # the rebuilt cache is good again


def test_an_unwritable_cache_folder_only_warns(
    hierarchy: Hierarchy,
    small_entries: list[CodeEntry],
    encoder: SentenceTransformer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    with caplog.at_level(logging.WARNING, logger=code_index_module.__name__):
        index = code_index_load_or_build(
            hierarchy, encoder, PACKAGED_ENCODER, "r1", blocked / "cache", entries=small_entries
        )
    assert index.codes == SMALL_CODES
    assert "Could not cache the code index" in caplog.text
