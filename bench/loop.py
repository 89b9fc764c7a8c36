"""The learning loop on real coded case reports: does the model get better?

Runs ``manage.py simulate_loop`` (see ``training.simulation``) in a throwaway
database created next to ``DATABASE_URL``'s and dropped at the end, with a
throwaway MODEL_DIR whose code-index cache is the shared one (so the 74k
code index is embedded once per machine, not per run). Coders are played
from the CodiEsp reference codes: the 500 train reports are reviewed in
``--rounds`` shares, the 250 dev reports are the evaluation set. Prints the
table of precision, recall, F1, macro F1 and MAP by level per round and, as
the last line, one JSON object:
{"rounds": ..., "category_f1_start": ..., "category_f1_end": ...,
 "code_f1_start": ..., "code_f1_end": ..., "code_map_end": ...,
 "code_precision_end": ..., "code_recall_end": ..., ...}
(every ``{level}_{figure}_{start|end}`` of ``training.simulation.FIGURES``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from throwaway_database import throwaway_database

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--train-limit", type=int, default=0)
    parser.add_argument("--dev-limit", type=int, default=0)
    options = parser.parse_args()
    server_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    name = f"bench_loop_{uuid.uuid4().hex[:10]}"
    with (
        throwaway_database(server_url, name) as database_url,
        tempfile.TemporaryDirectory(prefix="loop-models-") as models,
    ):
        env = _environment(database_url, Path(models))
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "-v", "0"], env=env, check=True, cwd=ROOT)
        subprocess.run([*manage, "load_codes"], env=env, check=True, cwd=ROOT)
        command = [
            *manage,
            "simulate_loop",
            "--json",
            "--rounds",
            str(options.rounds),
            "--steps",
            str(options.steps),
            "--train-limit",
            str(options.train_limit),
            "--dev-limit",
            str(options.dev_limit),
        ]
        subprocess.run(command, env=env, check=True, cwd=ROOT)


def _environment(database_url: str, models: Path) -> dict[str, str]:
    from_env = os.environ.get("MODEL_DIR")
    shared = Path(from_env) if from_env else ROOT / ".data" / "models"
    (shared / "cache").mkdir(parents=True, exist_ok=True)
    (models / "cache").symlink_to((shared / "cache").resolve(), target_is_directory=True)
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url
    env["MODEL_DIR"] = str(models)
    env.setdefault("LOG_LEVEL", "WARNING")
    env["PYTHONUNBUFFERED"] = "1"  # the table row by row, as rounds finish
    return env


if __name__ == "__main__":
    main()
