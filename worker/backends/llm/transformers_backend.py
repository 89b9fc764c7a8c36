"""A causal LM run in-process, with an optional LoRA adapter.

The model is asked with the versioned prompt through its own chat template,
answers greedily, and what it writes is read by ``parse_llm_output``. Notes
go through in batches, left-padded (a decoder-only model continues from the
right end of every row), sorted by length so a batch pads little.

A note too long for ``max_prompt_tokens`` is cut at the end, never the
instructions: without them the answer is unreadable. The cut is recorded at
the head of the reasoning, where the coder reads it, rather than in
``parse_problem``, which counts outputs that could not be read: the model's
answer to a cut note is still readable, just possibly incomplete.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from coding_app.codes.hierarchy import Hierarchy
from worker.backends.base import BackendConfigError, BackendSpec, NotePrediction, NoteText
from worker.backends.llm.output import parse_llm_output
from worker.backends.llm.prompts import PROMPT_VERSION, prompt_messages

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedTokenizerBase

DEFAULT_BATCH_SIZE = 8
DEFAULT_MAX_NEW_TOKENS = 512
DEFAULT_MAX_PROMPT_TOKENS = 3072
EMPTY_NOTE = "the note is empty; nothing was sent to the model"
TRUNCATION_NOTE = (
    "[Coding Desk: the note was cut to its first {kept} of {total} tokens to fit the "
    "model's prompt budget; codes supported only by the rest of it are missing.]"
)


@dataclass(frozen=True)
class GenerationOptions:
    batch_size: int = DEFAULT_BATCH_SIZE
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    max_prompt_tokens: int = DEFAULT_MAX_PROMPT_TOKENS


def generation_options(options: Mapping[str, Any]) -> GenerationOptions:
    """The generation options of a version; other keys are left to others."""
    return GenerationOptions(
        batch_size=positive_int_option(options, "batch_size", DEFAULT_BATCH_SIZE),
        max_new_tokens=positive_int_option(options, "max_new_tokens", DEFAULT_MAX_NEW_TOKENS),
        max_prompt_tokens=positive_int_option(
            options, "max_prompt_tokens", DEFAULT_MAX_PROMPT_TOKENS
        ),
    )


def positive_int_option(options: Mapping[str, Any], name: str, default: int) -> int:
    value: object = options.get(name, default)
    # bool is an int to Python, never to whoever wrote the option.
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BackendConfigError(
            f"option {name!r} must be a whole number of 1 or more, not {value!r}"
        )
    return value


class _TextGenerator(Protocol):
    """The one method of a transformers model this backend calls."""

    def generate(self, *args: Any, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class _Prompt:
    text: str
    # The note's token count and how many of them were kept, when cut.
    cut: tuple[int, int] | None


class TransformersBackend:
    """``spec.base_model`` (a HF name or a local folder) plus ``spec.adapter_path``."""

    def __init__(self, spec: BackendSpec, hierarchy: Hierarchy) -> None:
        import torch

        if not spec.base_model.strip():
            raise BackendConfigError(f"model version {spec.name!r} names no base model")
        self.spec = spec
        self.hierarchy = hierarchy
        self.options = generation_options(spec.options)
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        dtype = torch.bfloat16 if self.device.type == "cuda" else torch.float32
        # The tokenizer first: it loads in a moment, the model in minutes.
        self.tokenizer = _load_tokenizer(spec)
        self.model = _load_model(spec, dtype, self.device)
        self._instructions_tokens = len(self._prompt_ids("x")) - len(self._note_ids("x"))
        if self._instructions_tokens >= self.options.max_prompt_tokens:
            raise BackendConfigError(
                f"max_prompt_tokens is {self.options.max_prompt_tokens}, but the instructions "
                f"alone take {self._instructions_tokens} tokens with this tokenizer"
            )

    def predict(self, notes: Sequence[NoteText]) -> list[NotePrediction]:
        prompts = {i: self._prompt(note.text) for i, note in enumerate(notes) if note.text.strip()}
        # Longest first: similar lengths share a batch, and a batch too big
        # for memory fails on the first try, not after an hour.
        order = sorted(prompts, key=lambda i: -len(prompts[i].text))
        outputs: dict[int, str] = {}
        size = self.options.batch_size
        for start in range(0, len(order), size):
            chosen = order[start : start + size]
            texts = self._generate([prompts[i].text for i in chosen])
            outputs.update(zip(chosen, texts, strict=True))
        return [
            self._prediction(note, prompts[i], outputs[i])
            if i in prompts
            else NotePrediction(
                note.note_id, (), parse_problem=EMPTY_NOTE, prompt_version=PROMPT_VERSION
            )
            for i, note in enumerate(notes)
        ]

    def _prediction(self, note: NoteText, prompt: _Prompt, output: str) -> NotePrediction:
        parsed = parse_llm_output(output, self.hierarchy)
        reasoning = parsed.reasoning
        if prompt.cut is not None:
            total, kept = prompt.cut
            reasoning = "\n\n".join(
                part for part in (TRUNCATION_NOTE.format(kept=kept, total=total), reasoning) if part
            )
        return NotePrediction(
            note_id=note.note_id,
            codes=parsed.codes,
            reasoning=reasoning,
            raw_output=output,
            parse_problem=parsed.problem,
            prompt_version=PROMPT_VERSION,
        )

    def _prompt(self, note_text: str) -> _Prompt:
        """The chat prompt, the note cut to fit ``max_prompt_tokens``."""
        text = self._render(note_text)
        budget = self.options.max_prompt_tokens
        if len(self._ids(text)) <= budget:
            return _Prompt(text, None)
        note_ids = self._note_ids(note_text)
        keep = budget - self._instructions_tokens
        # Decoding a cut and encoding it again can merge tokens differently
        # at the edges; a few tokens less each round settles it.
        for _ in range(8):
            if keep < 1:
                break
            text = self._render(str(self.tokenizer.decode(note_ids[:keep])))
            if len(self._ids(text)) <= budget:
                return _Prompt(text, (len(note_ids), keep))
            keep -= max(8, len(self._ids(text)) - budget)
        raise BackendConfigError(f"cannot fit the note into max_prompt_tokens={budget}")

    def _render(self, note_text: str) -> str:
        rendered = self.tokenizer.apply_chat_template(
            prompt_messages(note_text), add_generation_prompt=True, tokenize=False
        )
        if not isinstance(rendered, str):
            raise BackendConfigError(
                f"the chat template of {self.spec.base_model!r} rendered "
                f"{type(rendered).__name__}, not text"
            )
        return rendered

    def _ids(self, text: str) -> list[int]:
        # The chat template writes any BOS token itself.
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _prompt_ids(self, note_text: str) -> list[int]:
        return self._ids(self._render(note_text))

    def _note_ids(self, note_text: str) -> list[int]:
        return self._ids(note_text.strip())

    def _generate(self, texts: list[str]) -> list[str]:
        import torch

        batch = self.tokenizer(
            texts, return_tensors="pt", padding=True, add_special_tokens=False
        ).to(self.device)
        with torch.inference_mode():
            generated = self.model.generate(
                **batch,
                max_new_tokens=self.options.max_new_tokens,
                do_sample=False,
                pad_token_id=self.tokenizer.pad_token_id,
            )
        new_tokens: torch.Tensor = generated[:, batch["input_ids"].shape[1] :]
        return [
            str(text) for text in self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
        ]


def _load_model(spec: BackendSpec, dtype: torch.dtype, device: torch.device) -> _TextGenerator:
    from transformers import AutoModelForCausalLM, GenerationMixin

    local = _local_folder(spec.base_model, "model")
    try:
        # from_pretrained leaves the model in eval mode (no dropout).
        model = AutoModelForCausalLM.from_pretrained(
            str(local or spec.base_model),
            dtype=dtype,
            device_map=str(device),
            local_files_only=local is not None,
        )
    except (OSError, ValueError, KeyError) as error:
        raise BackendConfigError(f"cannot load the model {spec.base_model!r}: {error}") from error
    if spec.adapter_path:
        model = _with_adapter(model, spec.adapter_path)
    if not isinstance(model, GenerationMixin):
        raise BackendConfigError(f"{spec.base_model!r} is not a model that generates text")
    return model


def _with_adapter(model: Any, adapter_path: str) -> Any:
    from peft import PeftModel

    folder = _local_folder(adapter_path, "LoRA adapter")
    if folder is None or not (folder / "adapter_config.json").is_file():
        raise BackendConfigError(
            f"the LoRA adapter {adapter_path!r} is not a folder with an adapter_config.json"
        )
    try:
        adapted = PeftModel.from_pretrained(model, str(folder), is_trainable=False)
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        # RuntimeError: weights whose shapes do not fit this base model.
        raise BackendConfigError(
            f"cannot apply the LoRA adapter {adapter_path!r}: {error}"
        ) from error
    # Merged, generation runs at the base model's speed.
    return adapted.merge_and_unload()


def _load_tokenizer(spec: BackendSpec) -> PreTrainedTokenizerBase:
    """The adapter's tokenizer when training saved one beside it (it may have
    a newer chat template), else the base model's; padded on the left."""
    from transformers import AutoTokenizer

    adapter = Path(spec.adapter_path) if spec.adapter_path else None
    if adapter is not None and (adapter / "tokenizer_config.json").is_file():
        source, local = str(adapter), True
    else:
        folder = _local_folder(spec.base_model, "model")
        source, local = str(folder or spec.base_model), folder is not None
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local)
    except (OSError, ValueError, KeyError) as error:
        raise BackendConfigError(f"cannot load the tokenizer of {source!r}: {error}") from error
    if not getattr(tokenizer, "chat_template", None):
        raise BackendConfigError(f"the tokenizer of {source!r} has no chat template")
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _local_folder(name: str, what: str) -> Path | None:
    """The folder ``name`` names, None for a hub name; raises when a path
    is written but missing (a hub name never starts with / . or ~)."""
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise BackendConfigError(f"the {what} path {name!r} is a file, not a folder")
    if name.startswith(("/", ".", "~")) or name.count("/") > 1:
        raise BackendConfigError(f"the {what} folder {name!r} does not exist")
    return None
