"""The tiny local chat model: built offline, loadable, trl-ready, reproducible."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests.coding_app.test_codes_support import packaged_hierarchy
from worker.backends.llm.output import parse_llm_output
from worker.backends.llm.prompts import prompt_messages
from worker.backends.llm.tiny_model import build_tiny_llm

MODEL_FILES = (
    "config.json",
    "generation_config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
)


def render(tokenizer: Any, messages: list[dict[str, str]], **options: bool) -> str:
    text = tokenizer.apply_chat_template(messages, tokenize=False, **options)
    assert isinstance(text, str)
    return text


def load_model(directory: Path) -> Any:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(directory, local_files_only=True)


@pytest.fixture(scope="module")
def command_built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A model built by the command: one training step keeps it quick."""
    directory = tmp_path_factory.mktemp("command") / "tiny"
    out = io.StringIO()
    call_command("build_tiny_llm", str(directory), "--train-steps", "1", stdout=out)
    return directory, out.getvalue()


def test_command_builds_a_model_folder_and_says_what_it_built(command_built):
    directory, output = command_built
    assert {path.name for path in directory.iterdir()} >= set(MODEL_FILES)
    assert str(directory) in output
    assert "parameters" in output
    assert "trained 1 steps" in output
    assert output.rstrip().endswith(" s.")


def test_built_model_loads_offline_and_continues_a_chat(command_built):
    from transformers import AutoTokenizer

    directory, _ = command_built
    tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True)
    model = load_model(directory)
    assert model.config.model_type == "qwen2"
    assert tokenizer.eos_token == "<|im_end|>"
    assert tokenizer.pad_token == "<|endoftext|>"
    messages = prompt_messages("Type 2 diabetes mellitus with hyperglycemia.")
    prompt = render(tokenizer, messages, add_generation_prompt=True)
    assert prompt.startswith("<|im_start|>system\n")
    assert prompt.endswith("<|im_end|>\n<|im_start|>assistant\n")
    without = render(tokenizer, messages)
    assert not without.endswith("<|im_start|>assistant\n")
    # The special tokens and the answer's tags are single tokens.
    for token in ("<|im_start|>", "<|im_end|>", "<think>", "</diagnosis>"):
        assert len(tokenizer.encode(token)) == 1, token
    inputs = tokenizer(prompt, return_tensors="pt")
    generated = model.generate(**inputs, max_new_tokens=4, do_sample=False)
    assert generated.shape[1] > inputs["input_ids"].shape[1]


def test_chat_template_is_one_trl_can_train_on(command_built):
    from transformers import AutoTokenizer
    from trl.chat_template_utils import (
        add_response_schema,
        get_training_chat_template,
        has_generation_markers,
        is_chat_template_prefix_preserving,
        is_chat_template_stop_token_trained,
    )

    directory, _ = command_built
    tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True)
    # SFT with assistant-only loss swaps in trl's training variant.
    training = get_training_chat_template(tokenizer)
    assert training is not None
    assert has_generation_markers(training)
    assert is_chat_template_stop_token_trained(tokenizer, chat_template=training)
    # GRPO's tool handling needs a prefix-preserving template and a parser.
    assert is_chat_template_prefix_preserving(tokenizer)
    parsed = add_response_schema(tokenizer).parse_response(
        "<think>\nnotes\n</think>\n<diagnosis>\nE11.65\n</diagnosis><|im_end|>", prefix=""
    )
    assert parsed["reasoning_content"].strip() == "notes"


def test_trained_model_answers_in_the_tag_format(tiny_llm_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_llm_dir, local_files_only=True)
    tokenizer.padding_side = "left"
    model = load_model(tiny_llm_dir)
    notes = [
        "Type 2 diabetes mellitus with hyperglycemia, on metformin.",
        "Assessment: acute bronchitis. Plan: rest and fluids.",
        "Follow-up for chronic kidney disease stage 3 and gout.",
    ]
    prompts = [
        tokenizer.apply_chat_template(
            prompt_messages(n), add_generation_prompt=True, tokenize=False
        )
        for n in notes
    ]
    batch = tokenizer(prompts, return_tensors="pt", padding=True)
    generated = model.generate(**batch, max_new_tokens=40, do_sample=False)
    outputs = tokenizer.batch_decode(
        generated[:, batch["input_ids"].shape[1] :], skip_special_tokens=True
    )
    for output in outputs:
        assert "<diagnosis>" in output, output
        assert "</diagnosis>" in output, output
        assert not parse_llm_output(output, packaged_hierarchy()).problem, output


def test_same_seed_builds_the_same_files(command_built, tmp_path):
    directory, _ = command_built
    again = build_tiny_llm(tmp_path / "again", seed=0, train_steps=1)
    for name in MODEL_FILES:
        assert (again / name).read_bytes() == (directory / name).read_bytes(), name
    other = build_tiny_llm(tmp_path / "other", seed=1, train_steps=1)
    assert (other / "model.safetensors").read_bytes() != (
        directory / "model.safetensors"
    ).read_bytes()
    assert (other / "tokenizer.json").read_bytes() == (directory / "tokenizer.json").read_bytes()


def test_command_refuses_a_folder_that_is_not_empty_unless_forced(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(CommandError, match="is not empty; pass --force"):
        call_command("build_tiny_llm", str(tmp_path), stdout=io.StringIO())
    assert [path.name for path in tmp_path.iterdir()] == ["notes.txt"]

    out = io.StringIO()
    call_command("build_tiny_llm", str(tmp_path), "--force", "--train-steps", "0", stdout=out)
    assert "random weights" in out.getvalue()
    assert {path.name for path in tmp_path.iterdir()} >= {"notes.txt", *MODEL_FILES}
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_command_refuses_a_file_or_a_path_under_a_file(tmp_path):
    a_file = tmp_path / "model"
    a_file.write_text("")
    with pytest.raises(CommandError, match="exists and is not a folder"):
        call_command("build_tiny_llm", str(a_file), stdout=io.StringIO())
    with pytest.raises(CommandError, match="is not a folder"):
        call_command("build_tiny_llm", str(a_file / "inside"), stdout=io.StringIO())


def test_command_refuses_negative_training_steps(tmp_path):
    with pytest.raises(CommandError, match="--train-steps must be 0 or more"):
        call_command("build_tiny_llm", str(tmp_path / "m"), "--train-steps", "-1")
