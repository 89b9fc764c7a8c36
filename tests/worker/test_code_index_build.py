"""The code index is built once a machine: one builder under a lock, in parts
that a stopped build resumes, published whole; the codes needed first are
published as an index of their own."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from celery.exceptions import SoftTimeLimitExceeded
from sentence_transformers import SentenceTransformer

from coding_app.codes.entry import CodeEntry
from coding_app.codes.hierarchy import Hierarchy
from tests.coding_app.test_codes_support import packaged_hierarchy
from worker.backends.embedding import index_parts, index_store
from worker.backends.embedding.code_index import (
    CodeIndex,
    code_index_build,
    code_index_for,
    code_index_load_or_build,
    code_index_texts,
)
from worker.backends.embedding.encoder import PACKAGED_ENCODER, load_encoder
from worker.backends.embedding.index_progress import (
    IndexLock,
    ProgressState,
    lock_held,
    progress_read,
)
from worker.backends.embedding.index_store import (
    IndexTarget,
    StoredIndex,
    index_build_locked,
    index_publish,
    index_read,
    index_target,
)

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
    """The number of texts of every ``encode`` call on the shared encoder."""
    calls: list[int] = []
    original = encoder.encode

    def counting(inputs: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(len(inputs))
        return original(inputs, *args, **kwargs)

    monkeypatch.setattr(encoder, "encode", counting)
    return calls


@pytest.fixture
def parts_of_three(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_parts, "PART_CODES", 3)


def target_for(entries: list[CodeEntry], cache_dir: Path) -> IndexTarget:
    return index_target(
        entries, encoder_name=PACKAGED_ENCODER, release_key="r1", cache_dir=cache_dir
    )


def load(
    hierarchy: Hierarchy, encoder: SentenceTransformer, entries: list[CodeEntry], cache_dir: Path
) -> CodeIndex:
    return code_index_load_or_build(
        hierarchy, encoder, PACKAGED_ENCODER, "r1", cache_dir, entries=entries
    )


def in_one_go(entries: list[CodeEntry], encoder: SentenceTransformer) -> CodeIndex:
    return code_index_build(entries, encoder, encoder_name=PACKAGED_ENCODER, release_key="r1")


def assert_same_index(got: CodeIndex, expected: CodeIndex) -> None:
    assert got.codes == expected.codes
    assert np.array_equal(got.extra_codes, expected.extra_codes)
    assert np.allclose(np.asarray(got.vectors), expected.vectors, atol=1e-5)


@pytest.mark.usefixtures("parts_of_three")
def test_an_index_built_in_parts_is_the_index_built_in_one_go(
    hierarchy: Hierarchy,
    encoder: SentenceTransformer,
    small_entries: list[CodeEntry],
    encode_calls: list[int],
    tmp_path: Path,
) -> None:
    index = load(hierarchy, encoder, small_entries, tmp_path)
    assert len(encode_calls) == 3  # nine codes, three a part
    assert_same_index(
        index,
        code_index_build(small_entries, encoder, encoder_name=PACKAGED_ENCODER, release_key="r1"),
    )
    target = target_for(small_entries, tmp_path)
    progress = progress_read(target.progress_file)
    assert progress is not None
    assert (progress.state, progress.codes_done, progress.codes_total) == ("ready", 9, 9)
    assert (progress.builds, progress.resumes, progress.percent) == (1, 0, 100)
    assert not target.build_dir.exists()  # the parts go once the index is published
    assert not lock_held(target.lock_file)


@pytest.mark.usefixtures("parts_of_three")
def test_a_build_stopped_by_a_time_limit_resumes_from_its_parts(
    hierarchy: Hierarchy,
    encoder: SentenceTransformer,
    small_entries: list[CodeEntry],
    encode_calls: list[int],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    counting = encoder.encode

    def stopped_at_the_second_part(inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if encode_calls:
            raise SoftTimeLimitExceeded()
        return counting(inputs, *args, **kwargs)

    monkeypatch.setattr(encoder, "encode", stopped_at_the_second_part)
    with pytest.raises(SoftTimeLimitExceeded):
        load(hierarchy, encoder, small_entries, tmp_path)
    target = target_for(small_entries, tmp_path)
    stopped = progress_read(target.progress_file)
    assert stopped is not None
    assert (stopped.state, stopped.codes_done, stopped.percent) == ("failed", 3, 33)
    assert "SoftTimeLimitExceeded" in stopped.error
    assert index_read(target) is None
    assert (target.build_dir / "part-00000.npy").exists()
    assert not lock_held(target.lock_file)

    monkeypatch.setattr(encoder, "encode", counting)
    index = load(hierarchy, encoder, small_entries, tmp_path)
    assert len(encode_calls) == 3  # one part before the stop, the other two after
    resumed = progress_read(target.progress_file)
    assert resumed is not None
    assert (resumed.state, resumed.builds, resumed.resumes) == ("ready", 1, 1)
    assert_same_index(
        index,
        code_index_build(small_entries, encoder, encoder_name=PACKAGED_ENCODER, release_key="r1"),
    )


def test_parts_of_another_index_are_not_reused(
    hierarchy: Hierarchy,
    encoder: SentenceTransformer,
    small_entries: list[CodeEntry],
    encode_calls: list[int],
    tmp_path: Path,
) -> None:
    target = target_for(small_entries, tmp_path)
    stale = target.build_dir
    stale.mkdir()
    (stale / "plan.json").write_text('{"format": 1, "digest": "another index"}')
    np.save(stale / "part-00000.npy", np.zeros((2, 384), dtype=np.float32))
    index = load(hierarchy, encoder, small_entries, tmp_path)
    assert len(encode_calls) == 1
    assert np.allclose(np.linalg.norm(index.vectors, axis=1), 1.0, atol=1e-5)


def test_a_second_builder_waits_for_the_first_and_reads_what_it_published(
    hierarchy: Hierarchy,
    encoder: SentenceTransformer,
    small_entries: list[CodeEntry],
    encode_calls: list[int],
    tmp_path: Path,
) -> None:
    target = target_for(small_entries, tmp_path)
    first = IndexLock(target.lock_file)  # another worker process, building
    assert first.acquire(blocking=False)
    assert lock_held(target.lock_file)
    got: list[CodeIndex] = []
    waiter = threading.Thread(
        target=lambda: got.append(load(hierarchy, encoder, small_entries, tmp_path))
    )
    waiter.start()
    time.sleep(1.0)
    assert waiter.is_alive(), "the second builder must wait for the lock"
    assert encode_calls == []

    built = code_index_build(
        small_entries, encoder, encoder_name=PACKAGED_ENCODER, release_key="r1"
    )
    index_publish(target, StoredIndex(built.codes, built.vectors, built.extra_codes))
    first.release()
    waiter.join(60)
    assert not waiter.is_alive()
    assert len(encode_calls) == 1, "the second builder embedded the codes again"
    assert_same_index(got[0], built)


def test_a_publish_cut_short_leaves_the_published_index_whole(
    hierarchy: Hierarchy,
    encoder: SentenceTransformer,
    small_entries: list[CodeEntry],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    published = load(hierarchy, encoder, small_entries, tmp_path)
    target = target_for(small_entries, tmp_path)

    def disk_full(handle: Any, array: Any, allow_pickle: bool) -> None:
        handle.write(b"\x93NUMPY half a matrix")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "save", disk_full)
    zeros = np.zeros_like(np.asarray(published.vectors))
    with pytest.raises(OSError, match="No space left"):
        index_publish(target, StoredIndex(published.codes, zeros, published.extra_codes))
    monkeypatch.undo()
    again = index_read(target)
    assert again is not None
    assert np.array_equal(again.vectors, published.vectors)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.usefixtures("parts_of_three")
def test_the_codes_needed_first_are_embedded_first_and_published_on_their_own(
    hierarchy: Hierarchy,
    encoder: SentenceTransformer,
    small_entries: list[CodeEntry],
    encode_calls: list[int],
    tmp_path: Path,
) -> None:
    target = target_for(small_entries, tmp_path)
    index = code_index_for(target, encoder, priority=["J189", "E119", "not-a-code"])
    first_codes = [e for e in small_entries if e.code in {"E119", "J189"}]
    assert encode_calls[0] == sum(len(code_index_texts(e)) for e in first_codes)
    assert len(encode_calls) == 4  # a part of two, then seven codes in three
    progress = progress_read(target.progress_file)
    assert progress is not None
    first_target = target_for(first_codes, tmp_path)
    assert (progress.priority_codes, progress.priority_stem) == (2, first_target.stem)
    assert progress.state == ProgressState.READY

    # The whole index keeps its own order; the first codes read as an index.
    assert index.codes == SMALL_CODES
    first = load(hierarchy, encoder, first_codes, tmp_path)
    assert len(encode_calls) == 4
    assert first.codes == ("E119", "J189")
    for code in first.codes:
        rows = first.code_rows(first.positions[code])
        assert np.allclose(rows, index.code_rows(index.positions[code]), atol=1e-6)


def test_on_a_slow_machine_what_is_ready_is_published_before_the_rest_of_it(
    encoder: SentenceTransformer,
    small_entries: list[CodeEntry],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setattr(index_store, "FIRST_PARTIAL_S", 0.0)  # every part is "late"
    monkeypatch.setattr(index_parts, "PRIORITY_PART_CODES", 1)
    target = target_for(small_entries, tmp_path)
    head_starts: list[str] = []

    def head_start() -> None:
        progress = progress_read(target.progress_file)
        assert progress is not None
        head_starts.append(progress.priority_stem)

    index_build_locked(target, encoder, ["N390", "I10", "E001"], after_priority=head_start)
    by_code = {e.code: e for e in small_entries}
    early = target_for([by_code["N390"]], tmp_path)
    whole_first = target_for([by_code[c] for c in ("E001", "I10", "N390")], tmp_path)
    # The first code alone, then all three; the head start after the first.
    assert head_starts == [early.stem]
    assert index_read(early) is not None
    stored = index_read(whole_first)
    assert stored is not None
    assert stored.codes == ("E001", "I10", "N390")
    progress = progress_read(target.progress_file)
    assert progress is not None
    assert (progress.priority_stem, progress.priority_codes) == (whole_first.stem, 3)


@pytest.mark.usefixtures("parts_of_three")
def test_a_resumed_build_keeps_serving_the_codes_it_had_published(
    encoder: SentenceTransformer,
    small_entries: list[CodeEntry],
    encode_calls: list[int],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    target = target_for(small_entries, tmp_path)
    first = target_for([e for e in small_entries if e.code in {"E119", "J189"}], tmp_path)
    counting = encoder.encode
    head_starts: list[int] = []
    served: list[str] = []

    def stopped_after_the_first_codes(inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if encode_calls:
            raise SoftTimeLimitExceeded()
        return counting(inputs, *args, **kwargs)

    def seen_by_waiters(inputs: Any, *args: Any, **kwargs: Any) -> Any:
        progress = progress_read(target.progress_file)
        served.append(progress.priority_stem if progress else "")
        return counting(inputs, *args, **kwargs)

    monkeypatch.setattr(encoder, "encode", stopped_after_the_first_codes)
    with pytest.raises(SoftTimeLimitExceeded):
        index_build_locked(
            target, encoder, ["J189", "E119"], after_priority=lambda: head_starts.append(1)
        )
    monkeypatch.setattr(encoder, "encode", seen_by_waiters)
    index_build_locked(
        target, encoder, ["J189", "E119"], after_priority=lambda: head_starts.append(2)
    )
    assert served == [first.stem] * 3  # all through the resumed build
    assert head_starts == [1]  # the first predictions had their head start once
    progress = progress_read(target.progress_file)
    assert progress is not None
    assert (progress.state, progress.resumes, progress.priority_stem) == ("ready", 1, first.stem)
