"""The OpenAI-compatible backend, against a real ``transformers serve`` and,
for the failures a healthy server never shows, small local HTTP servers."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.coding_app.test_codes_support import packaged_hierarchy
from tests.llm_fixtures import free_port
from worker.backends.base import (
    BackendConfigError,
    BackendSpec,
    NoteText,
    TransientBackendError,
)
from worker.backends.llm.openai_backend import EMPTY_NOTE, OpenAIBackend
from worker.backends.llm.prompts import PROMPT_VERSION

NOTES = [
    NoteText(5, "Assessment: essential hypertension."),
    NoteText(9, "Type 2 diabetes mellitus with hyperglycemia; on metformin. Plan: recheck A1c."),
    NoteText(2, "Acute bronchitis with cough for a week. " * 10),
]


def backend(model: str, base_url: str, **options: object) -> OpenAIBackend:
    spec = BackendSpec(
        name="tiny",
        backend="openai",
        base_model=model,
        options={"max_new_tokens": 32, "concurrency": 3, "timeout_s": 60, **options},
    )
    return OpenAIBackend(spec, packaged_hierarchy(), base_url=base_url, api_key="")


def test_predicts_notes_concurrently_in_order(openai_server, tiny_llm_dir: Path):
    served = backend(str(tiny_llm_dir), openai_server)
    predictions = served.predict([*NOTES[:2], NoteText(4, " "), NOTES[2]])
    assert [p.note_id for p in predictions] == [5, 9, 4, 2]
    assert predictions[2].parse_problem == EMPTY_NOTE
    answered = [predictions[i] for i in (0, 1, 3)]
    for prediction in answered:
        assert prediction.raw_output.strip()
        assert prediction.prompt_version == PROMPT_VERSION
    # Asked one at a time, greedy, the server writes the same answers: each
    # answer came back to its own note (and the answers differ, so a mix-up
    # would show).
    alone = [served.predict([note])[0] for note in NOTES]
    assert [p.raw_output for p in answered] == [p.raw_output for p in alone]
    assert len({p.raw_output for p in answered}) > 1


def test_unknown_model_is_a_config_error_with_the_servers_words(openai_server):
    with pytest.raises(BackendConfigError, match=r"answered 400 .* Server is pinned to"):
        backend("no-such-model", openai_server).predict(NOTES[:1])


def test_served_name_is_the_model_asked_for(openai_server, tiny_llm_dir):
    spec = BackendSpec(
        name="tiny", backend="openai", base_model=str(tiny_llm_dir), served_name="icd-lora-v3"
    )
    chosen = OpenAIBackend(spec, packaged_hierarchy(), base_url=openai_server, api_key="k")
    with pytest.raises(BackendConfigError, match="'icd-lora-v3'"):
        chosen.predict(NOTES[:1])


def test_server_not_listening_is_transient():
    closed = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(TransientBackendError, match="cannot reach"):
        backend("m", closed).predict(NOTES[:1])


def test_server_that_never_answers_is_transient():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        # The kernel accepts the connection; nobody ever reads or answers.
        with pytest.raises(TransientBackendError, match="did not answer within 1 s"):
            backend("m", f"http://127.0.0.1:{port}/v1", timeout_s=1).predict(NOTES[:1])


@contextmanager
def canned_server(status: int, body: Mapping[str, object]) -> Iterator[str]:
    """An HTTP server answering every POST with ``status`` and ``body``."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("status", [429, 500, 503])
def test_overload_and_server_errors_are_transient(status):
    with (
        canned_server(status, {"error": {"message": "busy"}}) as url,
        pytest.raises(TransientBackendError, match=rf"answered {status} .*: busy"),
    ):
        backend("m", url).predict(NOTES[:1])


def test_vllm_unknown_model_is_a_config_error_with_its_message():
    said = {"error": {"message": "The model `x` does not exist.", "type": "NotFoundError"}}
    with (
        canned_server(404, said) as url,
        pytest.raises(BackendConfigError, match=r"answered 404 .* The model `x` does not exist"),
    ):
        backend("x", url).predict(NOTES[:1])


def completion(content: str, **extra: str) -> dict[str, object]:
    message = {"role": "assistant", "content": content, **extra}
    return {
        "id": "c1",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
    }


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_split_off_by_the_server_is_put_back(field):
    answer = completion(
        "\n<diagnosis>\nE11.65\n</diagnosis>", **{field: "\nDiabetes, high sugar.\n"}
    )
    with canned_server(200, answer) as url:
        [prediction] = backend("m", url).predict(NOTES[1:2])
    assert prediction.raw_output == (
        "<think>\nDiabetes, high sugar.\n</think>\n<diagnosis>\nE11.65\n</diagnosis>"
    )
    assert prediction.reasoning == "Diabetes, high sugar."
    assert [c.code for c in prediction.codes] == ["E1165"]
    assert prediction.parse_problem == ""


@pytest.mark.parametrize(
    ("options", "base_url", "message"),
    [
        ({"concurrency": 0}, "http://h/v1", "'concurrency' must be a whole number of 1 or more"),
        ({"concurrency": 2.5}, "http://h/v1", "'concurrency' must be a whole number"),
        ({"timeout_s": "fast"}, "http://h/v1", "'timeout_s' must be a number above 0"),
        ({"max_new_tokens": -1}, "http://h/v1", "'max_new_tokens' must be a whole number"),
        ({}, "h:8000/v1", "must start with http:// or https://"),
    ],
)
def test_bad_configuration_is_a_config_error(options, base_url, message):
    with pytest.raises(BackendConfigError, match=message):
        backend("m", base_url, **options)
