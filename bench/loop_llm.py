"""The LLM leg of the learning loop on CodiEsp: SFT, then GRPO, on the tiny model.

Works in a throwaway database next to ``DATABASE_URL``'s, with throwaway
storage and model folders, all dropped at the end:

1. imports the CodiEsp case reports (train and dev) through the import
   service, builds the tiny local chat model (``build_tiny_llm``) and
   registers it as a ``transformers`` version;
2. that version predicts the train reports and a simulated coder reviews
   each prediction by the report's reference codes (``training.simulation``),
   leaving no comment (``_loop`` says why);
3. an admin's ``sft`` run (its export built "now" from those reviews) trains
   a LoRA adapter; then a ``grpo`` run from the SFT version, on a GRPO export
   of the same reviews, scored by the hierarchical reward
   (``coding_app.codes.reward``), trains that adapter further. Both go
   through ``training.runs.services`` as an admin's runs do; their own
   evaluation is given no notes (so an admin decides on promotion), since
   the bench scores every stage itself and predicting dev twice would
   double the longest part of the run;
4. before SFT, after SFT and after GRPO, the ``transformers`` backend
   predicts the first ``--dev-limit`` dev reports, scored against their
   reference codes with the evaluation's own metrics.

Celery tasks run in this process (``task_always_eager``): the bench plays
the worker, so nothing is queued on the shared broker.

Prints, per stage, the share of outputs that ``worker.backends.llm.output``
reads without a problem (``parsed``), the share in exactly the
``<think>``/``<diagnosis>`` layout that the reward's format part grades
(``strict``), and micro F1 at category and code level; as the last line one
JSON object: {"parse_rate_start": ..., "parse_rate_sft": ...,
"parse_rate_grpo": ..., "category_f1_start": ..., ...}.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from throwaway_database import throwaway_database

if TYPE_CHECKING:
    from coding_app.models import User
    from worker.models import ModelVersion, Note

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
NOTES_FILE = ROOT / "demo_data" / "codiesp" / "codiesp-train-dev.jsonl"
BENCH_ADMIN = "loop-llm-admin@coding-desk.invalid"


@dataclass(frozen=True)
class Stage:
    name: str
    version: str
    parse_rate: float
    strict_rate: float
    category_f1: float
    code_f1: float
    seconds: float


def main() -> None:
    options = _options()
    began = time.monotonic()
    server_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coding_app.settings")
    with tempfile.TemporaryDirectory(prefix="loop-llm-") as work:
        _environment(Path(work))
        with throwaway_database(server_url, f"bench_loop_llm_{uuid.uuid4().hex[:10]}"):
            import django

            django.setup()
            stages, reviewed, dev_notes = _loop(options, Path(work))
    print(f"({time.monotonic() - began:.0f} s in all)")
    summary: dict[str, Any] = {
        f"{figure}_{stage.name}": getattr(stage, figure)
        for figure in ("parse_rate", "category_f1", "strict_rate", "code_f1")
        for stage in stages
    }
    print(json.dumps({**summary, "train_reviews": reviewed, "dev_notes": dev_notes}))


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=Path, default=NOTES_FILE, help="CodiEsp JSONL")
    parser.add_argument("--train-limit", type=int, default=80, help="0: all train reports")
    parser.add_argument("--dev-limit", type=int, default=50, help="0: all dev reports")
    parser.add_argument("--sft-epochs", type=float, default=2)
    parser.add_argument("--sft-learning-rate", type=float, default=1e-2)
    parser.add_argument("--grpo-steps", type=int, default=8)
    parser.add_argument("--grpo-learning-rate", type=float, default=2e-4)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    return parser.parse_args()


def _environment(work: Path) -> None:
    """Storage, models and every Hugging Face cache inside ``work``; offline."""
    for name, folder in (
        ("STORAGE_DIR", "storage"),
        ("MODEL_DIR", "models"),
        ("HF_HOME", "hf-home"),
        ("HF_DATASETS_CACHE", "hf-home/datasets"),
    ):
        (work / folder).mkdir(parents=True, exist_ok=True)
        os.environ[name] = str(work / folder)
    os.environ.update({"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"})
    # The table is the output; the libraries' progress bars would bury it.
    os.environ.update({"HF_DATASETS_DISABLE_PROGRESS_BARS": "1", "TRANSFORMERS_VERBOSITY": "error"})
    os.environ.setdefault("LOG_LEVEL", "WARNING")


def _loop(options: argparse.Namespace, work: Path) -> tuple[list[Stage], int, int]:
    """The three stages, how many train reports were reviewed, how many dev
    reports evaluate."""
    from coding_app.celery import app
    from coding_app.codes.store import current_hierarchy
    from review.models import Review
    from training.models import TrainingRun
    from training.simulation import review_by_reference, simulated_coder

    app.conf.task_always_eager = True
    train, dev = _setup(options.notes, options.train_limit, options.dev_limit)
    base = _tiny_version(work, options.max_new_tokens)
    admin = _admin()
    print(f"{len(train)} train reports to review, {len(dev)} dev reports to evaluate")
    print(TABLE_HEADER, flush=True)
    stages = [_stage("start", base, dev)]
    began = time.monotonic()
    hierarchy = current_hierarchy()
    coder = simulated_coder()
    reviewed = review_by_reference(train, version=base, coder=coder, hierarchy=hierarchy)
    # The simulated coder writes no comment, so the SFT answers hold an
    # empty <think> block: the tiny model's embeddings (tied to its output
    # layer, which LoRA leaves frozen) were only trained on the few words of
    # its build, so no adapter can teach it to write new words; the layout
    # and the codes are made of tokens it knows.
    Review.objects.filter(coder=coder).update(comment="")
    print(f"       {reviewed} reviews in {time.monotonic() - began:.0f} s", flush=True)
    sft = _run(TrainingRun.Method.SFT, base, admin, _sft_hyper(options))
    stages.append(_stage("sft", sft, dev))
    grpo = _run(TrainingRun.Method.GRPO, sft, admin, _grpo_hyper(options))
    stages.append(_stage("grpo", grpo, dev))
    return stages, reviewed, len(dev)


def _setup(notes_file: Path, train_limit: int, dev_limit: int) -> tuple[list[Note], list[Note]]:
    """Migrate, load the code set, import the reports; the train and dev notes."""
    from django.core.management import call_command

    from worker.models import Note, UploadBatch
    from worker.uploads.demo_notes import DEMO_SOURCE
    from worker.uploads.services import upload_batch_create, upload_batch_run

    call_command("migrate", verbosity=0)
    call_command("load_codes")
    batch = upload_batch_create(
        source=DEMO_SOURCE,
        file_name=notes_file.name,
        stored_path=notes_file,
        mode=UploadBatch.Mode.GOOD_ROWS,
        created_by=None,
    )
    upload_batch_run(batch_id=batch.pk, delete_files=False)
    notes = Note.objects.filter(source=DEMO_SOURCE).order_by("pk")
    train = notes.filter(metadata__split="train")
    dev = notes.filter(metadata__split="dev")
    return (
        list(train[:train_limit] if train_limit else train),
        list(dev[:dev_limit] if dev_limit else dev),
    )


def _tiny_version(work: Path, max_new_tokens: int) -> ModelVersion:
    from worker.backends.llm.tiny_model import build_tiny_llm
    from worker.registry.versions import model_version_register

    folder = build_tiny_llm(work / "tiny-llm")
    return model_version_register(
        name="tiny-llm",
        backend="transformers",
        base_model=str(folder),
        options={"max_new_tokens": max_new_tokens},
    )


def _admin() -> User:
    import secrets

    from coding_app.accounts.roles import Role
    from coding_app.accounts.services import user_create

    return user_create(
        email=BENCH_ADMIN,
        password=secrets.token_urlsafe(24),
        roles=[Role.ADMIN],
        check_password=False,
    )


def _sft_hyper(options: argparse.Namespace) -> dict[str, Any]:
    return {
        "epochs": options.sft_epochs,
        "learning_rate": options.sft_learning_rate,
        "batch_size": 4,
        "max_length": 2048,
        "assistant_only_loss": True,
    }


def _grpo_hyper(options: argparse.Namespace) -> dict[str, Any]:
    return {
        "max_steps": options.grpo_steps,
        "learning_rate": options.grpo_learning_rate,
        "batch_size": 4,
        "num_generations": 4,
        "max_completion_length": options.max_new_tokens,
    }


def _run(method: str, base: ModelVersion, admin: User, hyper: dict[str, Any]) -> ModelVersion:
    """An admin's run of ``method`` from ``base``, its export built now from
    all reviews; the version it produced."""
    from training.models import TrainingRun
    from training.runs.services import training_run_create, training_run_execute

    began = time.monotonic()
    run = training_run_create(
        method=method,
        base_version=base,
        hyperparameters=hyper,
        created_by=admin,
        enqueue=False,
    )
    # trl prints each logged step; the run keeps them in its log and
    # progress, and this bench's output is the table.
    with contextlib.redirect_stdout(sys.stderr):
        training_run_execute(run_id=run.pk, evaluation_note_ids=[])
    run.refresh_from_db()
    if run.status != TrainingRun.Status.DONE or run.produced_version is None:
        raise RuntimeError(f"{method} run {run.pk} {run.status}: {run.error}\n{run.log}")
    rows = run.snapshot.row_counts if run.snapshot else {}
    print(
        f"       {method} run {run.pk}: {run.progress.get('step')} steps on {rows} export rows "
        f"in {time.monotonic() - began:.0f} s",
        flush=True,
    )
    return run.produced_version


def _stage(name: str, version: ModelVersion, notes: list[Note]) -> Stage:
    """What ``version`` writes for ``notes``: how much of it parses, and its F1."""
    from coding_app.codes.completion import parse_completion
    from coding_app.codes.store import current_hierarchy
    from training.labels import LABELS_REFERENCE, gold_codes
    from training.runs.evaluation import compare_versions
    from worker.backends.base import NoteText
    from worker.backends.loading import backend_for

    began = time.monotonic()
    predictions = backend_for(version).predict([NoteText(n.pk, n.text) for n in notes])
    gold = gold_codes(source=LABELS_REFERENCE, note_ids=[n.pk for n in notes])
    scored = [p for p in predictions if gold.get(p.note_id)]
    codes = [[c.code for c in p.codes if c.valid] for p in scored]
    comparison = compare_versions(
        note_ids=[p.note_id for p in scored],
        candidate=codes,
        active=codes,
        gold=[gold[p.note_id] for p in scored],
        hierarchy=current_hierarchy(),
    )
    scores = comparison.scores["candidate"]
    stage = Stage(
        name=name,
        version=version.name,
        parse_rate=_share(not p.parse_problem for p in predictions),
        strict_rate=_share(parse_completion(p.raw_output).well_formed for p in predictions),
        category_f1=scores["category"]["f1_micro"],
        code_f1=scores["code"]["f1_micro"],
        seconds=time.monotonic() - began,
    )
    print(_row(stage), flush=True)
    return stage


def _share(flags: Iterable[object]) -> float:
    values = [bool(flag) for flag in flags]
    return round(sum(values) / len(values), 4) if values else 0.0


def _row(stage: Stage) -> str:
    return (
        f"{stage.name:<6}  {stage.parse_rate:>6.1%}  {stage.strict_rate:>6.1%}  "
        f"{stage.category_f1:>11.3f}  {stage.code_f1:>7.3f}  {stage.seconds:>6.0f}  "
        f"{stage.version}"
    )


TABLE_HEADER = (
    "stage   parsed  strict  category F1  code F1  pred s  version\n"
    "------  ------  ------  -----------  -------  ------  -------------"
)


if __name__ == "__main__":
    main()
