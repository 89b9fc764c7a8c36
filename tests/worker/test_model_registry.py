"""The registry's rules: one active version per backend, registration from the shell."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from worker.models import ModelVersion
from worker.registry.versions import active_version, zero_shot_version_ensure


def test_the_zero_shot_model_is_registered_once_and_active(db: None, settings) -> None:
    first = zero_shot_version_ensure()
    assert zero_shot_version_ensure() == first
    assert (first.backend, first.status) == ("embedding", "active")
    assert first.base_model == settings.EMBEDDING_MODEL
    assert active_version("embedding") == first


def test_two_active_versions_of_one_backend_are_refused_by_the_database(db: None) -> None:
    zero_shot_version_ensure()
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.create(
            name="second", backend="embedding", base_model="x", status="active"
        )


def test_register_model_from_the_shell_with_options_and_activation(db: None) -> None:
    zero_shot_version_ensure()
    out = io.StringIO()
    call_command(
        "register_model",
        "qwen-lora",
        "--backend",
        "openai",
        "--base-model",
        "Qwen/Qwen2.5-7B",
        "--served-name",
        "coding-lora",
        "--option",
        "max_tokens=256",
        "--option",
        "base_url=http://vllm:8000/v1",
        "--activate",
        stdout=out,
    )
    version = ModelVersion.objects.get(name="qwen-lora")
    assert version.options == {"max_tokens": 256, "base_url": "http://vllm:8000/v1"}
    assert (version.served_name, version.status) == ("coding-lora", "active")
    assert "Registered qwen-lora" in out.getvalue()
    # Activating an openai version leaves the embedding family alone.
    assert active_version("embedding") is not None


def test_activating_retires_the_previous_active_version(db: None) -> None:
    old = zero_shot_version_ensure()
    call_command(
        "register_model",
        "minilm-head",
        "--backend",
        "embedding",
        "--adapter",
        "/models/h.npz",
        "--activate",
        stdout=io.StringIO(),
    )
    old.refresh_from_db()
    assert old.status == "retired"
    assert active_version("embedding") == ModelVersion.objects.get(name="minilm-head")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["dup", "--backend", "embedding"], "exists"),
        (["x", "--backend", "embedding", "--option", "novalue"], "is not KEY=VALUE"),
    ],
)
def test_bad_registrations_are_named(db: None, arguments: list[str], message: str) -> None:
    ModelVersion.objects.create(name="dup", backend="embedding", base_model="x")
    with pytest.raises(CommandError, match=message):
        call_command("register_model", *arguments, stdout=io.StringIO())
