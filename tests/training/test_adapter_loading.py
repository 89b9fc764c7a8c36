"""Promoting an ``openai`` version loads its adapter into the server first.

vLLM cannot run on this CPU, so a small HTTP server in the test answers
``/v1/load_lora_adapter`` as vLLM does (200, or 400 with its message) and
records what it was sent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from training.runs.services import version_promote
from worker.models import ModelVersion
from worker.registry.adapters import AdapterLoadError

pytestmark = pytest.mark.usefixtures("model_dir")


class AdapterServer(HTTPServer):
    received: list[dict[str, Any]]
    answer: tuple[int, str]


class Handler(BaseHTTPRequestHandler):
    server: AdapterServer

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.server.received.append(
            {"path": self.path, "body": json.loads(self.rfile.read(length))}
        )
        status, text = self.server.answer
        self.send_response(status)
        self.end_headers()
        self.wfile.write(text.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[AdapterServer]:
    httpd = AdapterServer(("127.0.0.1", 0), Handler)
    httpd.received, httpd.answer = [], (200, "Success")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def served_version(server: AdapterServer) -> ModelVersion:
    ModelVersion.objects.create(
        name="qwen-base",
        backend="openai",
        base_model="Qwen/Qwen2.5-7B-Instruct",
        status="active",
    )
    return ModelVersion.objects.create(
        name="openai-run-7",
        backend="openai",
        base_model="Qwen/Qwen2.5-7B-Instruct",
        adapter_path="/models/runs/7/adapter",
        served_name="run-7",
        options={"base_url": f"http://127.0.0.1:{server.server_port}/v1"},
    )


@pytest.mark.django_db
def test_promoting_an_openai_version_loads_its_adapter_into_the_server(
    server: AdapterServer,
) -> None:

    version = served_version(server)
    version_promote(version=version, by=None)
    assert server.received == [
        {
            "path": "/v1/load_lora_adapter",
            "body": {"lora_name": "run-7", "lora_path": "/models/runs/7/adapter"},
        }
    ]
    assert ModelVersion.objects.get(backend="openai", status="active") == version


@pytest.mark.django_db
def test_a_version_the_server_refuses_does_not_become_active(server: AdapterServer) -> None:
    version = served_version(server)
    server.answer = (404, "The adapter folder does not exist")
    with pytest.raises(AdapterLoadError, match="refused the adapter \\(404\\)"):
        version_promote(version=version, by=None)
    assert ModelVersion.objects.get(backend="openai", status="active").name == "qwen-base"
