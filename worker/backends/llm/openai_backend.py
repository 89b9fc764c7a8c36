"""Any OpenAI-compatible chat-completions server: vLLM in production,
``transformers serve`` in the tests.

The model asked for is ``spec.served_name`` or else ``spec.base_model``:
vLLM started with ``--enable-lora`` serves each adapter under its own name
beside the base model. Notes go out concurrently, one request each, and come
back in the order given.

Failures are sorted for the Celery task: what may pass on its own (the
server unreachable, slow, overloaded or failing, 429 and 5xx) raises
TransientBackendError, which is retried with backoff; what a retry cannot
fix (an unknown model, a bad key, a refused request: other 4xx) raises
BackendConfigError with the server's own words. The client retries nothing
itself, so the task's backoff is the only one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import openai
from openai.types.chat import (
    ChatCompletionMessageParam,
    ChatCompletionSystemMessageParam,
    ChatCompletionUserMessageParam,
)

from coding_app.codes.hierarchy import Hierarchy
from worker.backends.base import (
    BackendConfigError,
    BackendSpec,
    NotePrediction,
    NoteText,
    TransientBackendError,
)
from worker.backends.llm.output import parse_llm_output
from worker.backends.llm.prompts import PROMPT_VERSION, prompt_messages

DEFAULT_CONCURRENCY = 8
DEFAULT_TIMEOUT_S = 120.0
DEFAULT_MAX_NEW_TOKENS = 512
# Statuses that say "not now" rather than "not like this".
_TRANSIENT_STATUSES = frozenset({408, 409, 429})
# Where servers put the <think> part when a reasoning parser is on
# (``reasoning_content``: transformers serve and older vLLM; ``reasoning``:
# newer vLLM).
_REASONING_FIELDS = ("reasoning_content", "reasoning")
EMPTY_NOTE = "the note is empty; nothing was sent to the model"


@dataclass(frozen=True)
class RequestOptions:
    concurrency: int = DEFAULT_CONCURRENCY
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS


def request_options(options: Mapping[str, Any]) -> RequestOptions:
    """The request options of a version; other keys are left to others."""
    return RequestOptions(
        concurrency=int(_positive(options, "concurrency", DEFAULT_CONCURRENCY, whole=True)),
        timeout_s=_positive(options, "timeout_s", DEFAULT_TIMEOUT_S, whole=False),
        max_new_tokens=int(
            _positive(options, "max_new_tokens", DEFAULT_MAX_NEW_TOKENS, whole=True)
        ),
    )


def _positive(options: Mapping[str, Any], name: str, default: float, *, whole: bool) -> float:
    value: object = options.get(name, default)
    kind = "a whole number of 1 or more" if whole else "a number above 0"
    # bool is an int to Python, never to whoever wrote the option.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BackendConfigError(f"option {name!r} must be {kind}, not {value!r}")
    if value <= 0 or (whole and not isinstance(value, int)):
        raise BackendConfigError(f"option {name!r} must be {kind}, not {value!r}")
    return float(value)


class OpenAIBackend:
    """``spec.served_name`` (or ``spec.base_model``) on the server at ``base_url``."""

    def __init__(
        self, spec: BackendSpec, hierarchy: Hierarchy, *, base_url: str, api_key: str
    ) -> None:
        self.spec = spec
        self.hierarchy = hierarchy
        self.options = request_options(spec.options)
        self.model = spec.served_name or spec.base_model
        if not self.model:
            raise BackendConfigError(f"model version {spec.name!r} names no model to ask for")
        if not base_url.startswith(("http://", "https://")):
            raise BackendConfigError(
                f"the OpenAI base URL must start with http:// or https://, not {base_url!r}"
            )
        self.base_url = base_url
        self.client = openai.OpenAI(
            base_url=base_url,
            # Local servers take any key, but the client insists on one.
            api_key=api_key or "not-needed",
            timeout=self.options.timeout_s,
            max_retries=0,
        )

    def predict(self, notes: Sequence[NoteText]) -> list[NotePrediction]:
        if not notes:
            return []
        workers = min(self.options.concurrency, len(notes))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="openai") as pool:
            futures = [pool.submit(self._predict_one, note) for note in notes]
            return _results_in_order(futures)

    def _predict_one(self, note: NoteText) -> NotePrediction:
        if not note.text.strip():
            return NotePrediction(
                note.note_id, (), parse_problem=EMPTY_NOTE, prompt_version=PROMPT_VERSION
            )
        output = self._complete(prompt_messages(note.text))
        parsed = parse_llm_output(output, self.hierarchy)
        return NotePrediction(
            note_id=note.note_id,
            codes=parsed.codes,
            reasoning=parsed.reasoning,
            raw_output=output,
            parse_problem=parsed.problem,
            prompt_version=PROMPT_VERSION,
        )

    def _complete(self, messages: list[dict[str, str]]) -> str:
        try:
            response = self.client.chat.completions.create(
                model=self.model,
                messages=_chat_messages(messages),
                max_tokens=self.options.max_new_tokens,
                temperature=0,
            )
        except openai.APITimeoutError as error:
            raise TransientBackendError(
                f"{self.base_url} did not answer within {self.options.timeout_s:g} s"
            ) from error
        except openai.APIConnectionError as error:
            raise TransientBackendError(f"cannot reach {self.base_url}: {error}") from error
        except openai.APIStatusError as error:
            raise self._status_error(error) from error
        except openai.APIResponseValidationError as error:
            raise BackendConfigError(
                f"{self.base_url} did not answer like an OpenAI chat-completions server: {error}"
            ) from error
        if not response.choices:
            return ""
        return _full_text(response.choices[0].message)

    def _status_error(self, error: openai.APIStatusError) -> Exception:
        status = int(error.status_code)
        said = f"{self.base_url} answered {status} for model {self.model!r}: {_server_words(error)}"
        if status in _TRANSIENT_STATUSES or status >= 500:
            return TransientBackendError(said)
        return BackendConfigError(said)


def _server_words(error: openai.APIStatusError) -> str:
    """What the server said: OpenAI and vLLM nest it in ``error.message``,
    FastAPI apps (transformers serve) put it in ``detail``."""
    body = error.body
    if isinstance(body, dict):
        for key in ("message", "detail", "error"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message")
            if isinstance(value, str) and value:
                return value
    return error.message


def _chat_messages(messages: list[dict[str, str]]) -> list[ChatCompletionMessageParam]:
    typed: list[ChatCompletionMessageParam] = []
    for message in messages:
        role, content = message["role"], message["content"]
        if role == "system":
            typed.append(ChatCompletionSystemMessageParam(role="system", content=content))
        elif role == "user":
            typed.append(ChatCompletionUserMessageParam(role="user", content=content))
        else:
            raise ValueError(f"the prompt holds a {role!r} message; only system and user are sent")
    return typed


def _full_text(message: Any) -> str:
    """The answer as the model wrote it.

    A server with a reasoning parser moves the ``<think>`` block out of
    ``content`` into a field of its own; it is put back, so that the raw
    output stored is what the model wrote and the parser sees the format.
    """
    content = message.content or ""
    extra = message.model_extra or {}
    reasoning = next((extra[f] for f in _REASONING_FIELDS if isinstance(extra.get(f), str)), "")
    if not reasoning or "<think>" in content:
        return str(content)
    return f"<think>\n{reasoning.strip()}\n</think>\n{content.lstrip()}"


def _results_in_order(futures: list[Future[NotePrediction]]) -> list[NotePrediction]:
    """Each future's result in order; on the first failure the requests not
    yet sent are dropped and the failure raised."""
    try:
        return [future.result() for future in futures]
    except BaseException:
        for future in futures:
            future.cancel()
        raise
