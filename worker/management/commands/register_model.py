from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError

from worker.models import ModelVersion
from worker.registry.versions import model_version_register


class Command(BaseCommand):
    help = (
        "Register a model version: an embedding encoder (with an optional trained head), "
        "a causal LM in-process (HF name or local path, optional LoRA adapter), or a model "
        "on an OpenAI-compatible server such as vLLM (by the name it is served under)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="a unique name, e.g. qwen-sft-2026-11")
        parser.add_argument("--backend", required=True, choices=ModelVersion.Backend.values)
        parser.add_argument(
            "--base-model",
            help="HF name or local path; default EMBEDDING_MODEL or LLM_BASE_MODEL",
        )
        parser.add_argument("--adapter", default="", help="LoRA adapter folder, or head file")
        parser.add_argument(
            "--served-name", default="", help="openai: the model or adapter name at the server"
        )
        parser.add_argument(
            "--option",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="a backend option (VALUE read as JSON when it parses), e.g. max_new_tokens=512",
        )
        parser.add_argument(
            "--activate", action="store_true", help="make it the active version of its backend"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        backend = options["backend"]
        base = options["base_model"] or (
            settings.EMBEDDING_MODEL if backend == "embedding" else settings.LLM_BASE_MODEL
        )
        try:
            version = model_version_register(
                name=options["name"],
                backend=backend,
                base_model=base,
                adapter_path=options["adapter"],
                served_name=options["served_name"],
                options=dict(_option(text) for text in options["option"]),
                activate=options["activate"],
            )
        except IntegrityError as error:
            raise CommandError(f"A model version called {options['name']!r} exists") from error
        self.stdout.write(
            f"Registered {version.name}: {version.get_backend_display()}, base {version.base_model}"
            f"{', adapter ' + version.adapter_path if version.adapter_path else ''}"
            f" ({version.get_status_display().lower()})."
        )


def _option(text: str) -> tuple[str, object]:
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise CommandError(f"--option {text!r} is not KEY=VALUE")
    try:
        value: object = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value
