"""Suggestions per second: the raw encoder's and the trained model's, same notes.

    python bench/inference.py [--notes N] [--no-floor]

Run from the repository root with DATABASE_URL naming a PostgreSQL server
and REDIS_URL a Redis database that no Celery worker listens on (the bench
starts its own and checks). It works in a throwaway database next to
DATABASE_URL's (dropped at the end) and a throwaway MODEL_DIR whose
code-index cache is the shared one, so the code index is embedded once a
machine. There it loads the code set, imports the CodiEsp train reports
with their reference codes, trains the embedding model on them (a ``head``
run with labels ``reference``: mention lexicon, nearest notes, classifiers,
zero-shot similarity, ranker) and makes N notes from the CodiEsp dev texts
(default 1,000; the memory claim is over ``--notes 10000``). It then times,
on those same N notes:

- raw encoder: a PredictionJob with the encoder alone (the zero-shot
  version: sentence-to-code similarity, no learned signal) on a worker of
  its own (chunks through Redis, the worker, PostgreSQL writes);
- encode only: ``SentenceTransformer.encode`` of the notes' sentences in
  this process, with the same batch size: the floor no pipeline goes under,
  printed for reference;
- trained: the same job with the trained version (all signals on) on a
  fresh worker, sampling its resident memory as it goes.

"The raw encoder" is read as the untrained model's suggestions (a pipeline
that suggests), not a bare ``encode`` call (which suggests nothing): the
ratio says what the learned signals cost a worker. Each worker is warmed up
first (one chunk, 50 notes). The three run one after the other, encode-only
between the two jobs, so a machine whose load drifts skews the ratio less.
It prints a table and, as the last line, one JSON object:
{"raw_notes_per_s", "trained_notes_per_s", "ratio" (trained / raw; the
target is >= 0.7), "encode_notes_per_s", "peak_rss_mb" and "rss_growth_mb"
(the trained worker's peak, and its RSS at the end minus after warm-up),
"notes", ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench_worker import CHUNK, PipelineRun, no_other_worker, pipeline_measure
from throwaway_database import throwaway_database

if TYPE_CHECKING:  # imported for real after django.setup()
    from training.models import TrainingRun
    from worker.models import ModelVersion, UploadBatch

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
NOTES = 1000
# A whole chunk: the worker has seen batches of the timed run's size.
WARM_UP_NOTES = CHUNK
BENCH_SOURCE = "bench-inference"
TRAIN_SOURCE = "codiesp"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=NOTES, help="notes in each timed run")
    parser.add_argument(
        "--no-floor",
        action="store_true",
        help="skip the encode-only floor (a third of a 10,000-note run's time)",
    )
    options = parser.parse_args()
    count = options.notes
    if count < 2:
        parser.error("--notes must be 2 or more")
    server_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    name = f"bench_inference_{uuid.uuid4().hex[:10]}"
    with (
        throwaway_database(server_url, name),
        tempfile.TemporaryDirectory(prefix="inference-models-") as models,
    ):
        os.environ["MODEL_DIR"] = str(_model_dir(Path(models)))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coding_app.settings")
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        no_other_worker()
        figures = _bench(count, floor=not options.no_floor)
    print(json.dumps(figures))


def _model_dir(models: Path) -> Path:
    """A throwaway MODEL_DIR (the training run's folder goes there) whose
    ``cache`` is the shared one: the code index is built once a machine."""
    from_env = os.environ.get("MODEL_DIR")
    shared = Path(from_env) if from_env else ROOT / ".data" / "models"
    (shared / "cache").mkdir(parents=True, exist_ok=True)
    (models / "cache").symlink_to((shared / "cache").resolve(), target_is_directory=True)
    return models


def _bench(count: int, *, floor: bool) -> dict[str, Any]:
    from django.core.management import call_command

    from worker.registry.versions import zero_shot_version_ensure

    call_command("migrate", verbosity=0)
    call_command("load_codes")
    zero_shot = zero_shot_version_ensure()
    run = _trained_run(zero_shot)
    trained = run.produced_version
    assert trained is not None
    warm, notes = _bench_batches(count)
    print(f"Timing {count:,} notes (after {WARM_UP_NOTES} to warm each worker up) ...")
    raw = pipeline_measure(zero_shot, warm, notes)
    encode_s = _encode_only(notes, zero_shot) if floor else None
    learned = pipeline_measure(trained, warm, notes)
    _check_trained_path(trained)
    _report(count, encode_s, raw, learned, run)
    return _figures(count, encode_s, raw, learned, run)


def _trained_run(base: ModelVersion) -> TrainingRun:
    """A head run on the CodiEsp train reports' reference codes, executed here."""
    from training.labels import LABELS_REFERENCE
    from training.models import TrainingRun
    from training.runs.services import training_run_create, training_run_execute

    imported = _train_notes_import()
    started = time.perf_counter()
    run = training_run_create(
        method=TrainingRun.Method.HEAD,
        base_version=base,
        hyperparameters={"labels": LABELS_REFERENCE},
        created_by=None,
        enqueue=False,
    )
    training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    if run.status != TrainingRun.Status.DONE or run.produced_version is None:
        raise SystemExit(f"The bench's head run {run.status}: {run.error}\n{run.log}")
    print(
        f"Trained {run.produced_version.name} on {run.training_notes} of {imported} CodiEsp "
        f"train reports in {time.perf_counter() - started:.0f} s"
    )
    return run


def _train_notes_import() -> int:
    """Import the CodiEsp train reports with their reference codes, as an
    admin's upload would; returns the notes imported."""
    from worker.uploads.demo_notes import DEMO_FILE

    rows = [json.loads(line) for line in DEMO_FILE.open(encoding="utf-8")]
    train = [row for row in rows if row.get("split") == "train"]
    return _upload(TRAIN_SOURCE, "codiesp-train", train, good_rows=True).notes_created


def _bench_batches(count: int) -> tuple[UploadBatch, UploadBatch]:
    """The warm-up notes and the ``count`` timed notes: CodiEsp dev texts
    (reports the trained model did not learn from), repeated as needed."""
    from worker.uploads.demo_notes import DEMO_FILE

    rows = [json.loads(line) for line in DEMO_FILE.open(encoding="utf-8")]
    texts = [row["text"] for row in rows if row.get("split") == "dev"]
    batches = []
    for name, size in (("warm-up", WARM_UP_NOTES), ("notes", count)):
        records = [{"id": f"{name}-{i}", "text": texts[i % len(texts)]} for i in range(size)]
        batch = _upload(BENCH_SOURCE, name, records, good_rows=False)
        if batch.notes_created != size:
            raise SystemExit(f"The bench made {batch.notes_created} of {size} notes: {batch.error}")
        batches.append(batch)
    return batches[0], batches[1]


def _upload(
    source: str, name: str, records: list[dict[str, Any]], *, good_rows: bool
) -> UploadBatch:
    from worker.models import UploadBatch
    from worker.uploads.services import upload_batch_create, upload_batch_run

    mode = UploadBatch.Mode.GOOD_ROWS if good_rows else UploadBatch.Mode.ALL_OR_NOTHING
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        batch = upload_batch_create(
            source=source, file_name=path.name, stored_path=path, mode=mode, created_by=None
        )
        return upload_batch_run(batch_id=batch.pk, delete_files=False)


def _encode_only(batch: UploadBatch, version: ModelVersion) -> float:
    """Seconds to embed the batch's sentences, cut as the backend cuts them."""
    from worker.backends.embedding.code_index import encoder_name_for
    from worker.backends.embedding.encoder import load_encoder
    from worker.backends.embedding.ranking import ranking_options
    from worker.backends.embedding.sentences import split_sentences
    from worker.models import Note

    options = ranking_options(version.options)
    texts = Note.objects.filter(batch=batch).values_list("text", flat=True)
    sentences = [
        text[start:end]
        for text in texts.iterator(chunk_size=1000)
        for start, end in split_sentences(text, options.max_sentence_chars)
    ]
    encoder = load_encoder(encoder_name_for(version.base_model))
    encoder.encode(sentences[: options.batch_size])  # warm
    started = time.perf_counter()
    encoder.encode(
        sentences, batch_size=options.batch_size, convert_to_numpy=True, normalize_embeddings=True
    )
    return time.perf_counter() - started


def _check_trained_path(version: ModelVersion) -> None:
    """Exit unless every prediction of ``version`` came from its suggester."""
    from worker.backends.embedding.signals.store import RECIPE
    from worker.models import Prediction

    other = Prediction.objects.filter(model_version=version).exclude(prompt_version=RECIPE)
    if other.exists():
        raise SystemExit(f"{other.count()} predictions of {version.name} are not {RECIPE}'s")


def _report(
    count: int, encode_s: float | None, raw: PipelineRun, learned: PipelineRun, run: TrainingRun
) -> None:
    print(f"\n{count:,} notes            seconds   notes/s   vs raw")
    for label, seconds in (
        ("raw encoder (job)", raw.seconds),
        ("trained (job)", learned.seconds),
        ("encode only", encode_s),
    ):
        if seconds is None:
            continue
        print(f"{label:<22}{seconds:>9.1f}{count / seconds:>10.2f}{raw.seconds / seconds:>9.2f}")
    print("(trained: all signals on; target trained / raw >= 0.70)")
    _memory_table(raw, learned)
    scores = run.evaluation.scores
    f1 = {side: scores[side]["code"]["f1_micro"] for side in ("candidate", "active")}
    print(
        f"\nheld-out code F1 ({run.evaluation.notes} notes): trained {f1['candidate']:.3f}, "
        f"raw encoder {f1['active']:.3f}"
    )


def _figures(
    count: int, encode_s: float | None, raw: PipelineRun, learned: PipelineRun, run: TrainingRun
) -> dict[str, Any]:
    return {
        "raw_notes_per_s": round(count / raw.seconds, 3),
        "trained_notes_per_s": round(count / learned.seconds, 3),
        "ratio": round(raw.seconds / learned.seconds, 3),
        "encode_notes_per_s": None if encode_s is None else round(count / encode_s, 3),
        "peak_rss_mb": round(learned.peak_rss_mb, 1),
        "rss_growth_mb": round(learned.rss_growth_mb, 1),
        "rss_after_warm_up_mb": round(learned.rss_after_warm_up_mb, 1),
        "rss_first_half_mb": round(learned.rss_first_half_mb, 1),
        "rss_end_mb": round(learned.rss_end_mb, 1),
        "raw_peak_rss_mb": round(raw.peak_rss_mb, 1),
        "training_notes": run.training_notes,
        "notes": count,
    }


def _memory_table(raw: PipelineRun, learned: PipelineRun) -> None:
    print("\nworker RSS, MB        raw         trained")
    for label, key in (
        ("after warm-up", "rss_after_warm_up_mb"),
        ("first half, most", "rss_first_half_mb"),
        ("end", "rss_end_mb"),
        ("peak", "peak_rss_mb"),
        ("end - after warm-up", "rss_growth_mb"),
    ):
        print(f"{label:<22}{getattr(raw, key):>9.0f}{getattr(learned, key):>10.0f}")


if __name__ == "__main__":
    main()
