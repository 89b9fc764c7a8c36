"""Session fixtures for the LLM backends: a tiny local model and a real
OpenAI-compatible server (``transformers serve``) in front of it.

Nothing here may reach the network: the model is built from the packaged
release, and the server runs with the hub offline and an empty cache of its
own.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from worker.backends.llm.tiny_model import build_tiny_llm

SERVER_START_TIMEOUT_S = 120


@pytest.fixture(scope="session")
def tiny_llm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny chat model, built (and taught the answer format) once."""
    return build_tiny_llm(tmp_path_factory.mktemp("tiny-llm") / "model")


@pytest.fixture(scope="session")
def tiny_adapter_dir(tiny_llm_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A LoRA adapter (rank 4) of the tiny model, as a trained version has:
    its weights are all non-zero, so it tells apart from a new adapter."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_llm_dir)
    lora = LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", task_type="CAUSAL_LM")
    adapted = get_peft_model(model, lora)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, weight in adapted.named_parameters():
            if "lora_" in name:
                weight.copy_(torch.randn(weight.shape, generator=generator) * 0.01)
    folder = tmp_path_factory.mktemp("tiny-adapter") / "adapter"
    adapted.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def openai_server(tiny_llm_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL (``http://127.0.0.1:PORT/v1``) of ``transformers serve``
    pinned to the tiny model; requests name the model by its folder path."""
    port = free_port()
    work = tmp_path_factory.mktemp("transformers-serve")
    (work / "hf-home" / "hub").mkdir(parents=True)
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        # /v1/models lists the hub cache; an empty one of our own keeps it
        # quick, answering, and blind to the developer's downloads.
        "HF_HOME": str(work / "hf-home"),
        "HF_HUB_CACHE": str(work / "hf-home" / "hub"),
    }
    log_path = work / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "transformers.cli.transformers",
                "serve",
                str(tiny_llm_dir),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--device",
                "cpu",
                "--dtype",
                "float32",
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        base_url = f"http://127.0.0.1:{port}/v1"
        _wait_until_serving(process, f"{base_url}/models", log_path)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def free_port() -> int:
    """A port nothing listens on now (and, closed at once, nothing will)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_serving(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    # The pinned model is loaded before the server listens, so the first
    # answer means it is ready to generate.
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"transformers serve exited with {process.returncode} before it answered:\n"
                f"{_tail(log_path)}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.25)
    process.kill()
    raise RuntimeError(
        f"transformers serve did not answer {url} within {SERVER_START_TIMEOUT_S} s:\n"
        f"{_tail(log_path)}"
    )


def _tail(log_path: Path, size: int = 4000) -> str:
    return log_path.read_bytes()[-size:].decode(errors="replace")
