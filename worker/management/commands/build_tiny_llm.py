from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from worker.backends.llm.tiny_chat import TinyModelError
from worker.backends.llm.tiny_model import build_tiny_llm_summary
from worker.backends.llm.tiny_training import TRAIN_STEPS


class Command(BaseCommand):
    help = (
        "Build a tiny Qwen2-style chat model offline (for tests and demos) into DIR, "
        "loadable with AutoModelForCausalLM / AutoTokenizer and servable by "
        "`transformers serve DIR`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, metavar="DIR")
        parser.add_argument(
            "--seed", type=int, default=0, help="the same seed builds the same files"
        )
        parser.add_argument(
            "--train-steps",
            type=int,
            default=TRAIN_STEPS,
            help=f"steps teaching the answer format (default {TRAIN_STEPS}; 0: random weights)",
        )
        parser.add_argument(
            "--force", action="store_true", help="overwrite the model files in a non-empty DIR"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["train_steps"] < 0:
            raise CommandError(f"--train-steps must be 0 or more, not {options['train_steps']}")
        started = time.monotonic()
        try:
            built = build_tiny_llm_summary(
                options["directory"],
                seed=options["seed"],
                force=options["force"],
                train_steps=options["train_steps"],
            )
        except TinyModelError as error:
            raise CommandError(str(error)) from error
        trained = (
            f"trained {built.train_steps} steps (final loss {built.final_loss:.3f})"
            if built.final_loss is not None
            else "random weights"
        )
        self.stdout.write(
            f"Built a tiny Qwen2 model in {built.directory}: {built.parameters:,} parameters, "
            f"vocabulary of {built.vocab_size}, {trained}, "
            f"in {time.monotonic() - started:.1f} s."
        )
