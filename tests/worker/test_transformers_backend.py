"""The in-process transformers backend, on the tiny local model."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.coding_app.test_codes_support import packaged_hierarchy
from worker.backends.base import BackendConfigError, BackendSpec, NotePrediction, NoteText
from worker.backends.llm.prompts import PROMPT_VERSION
from worker.backends.llm.transformers_backend import EMPTY_NOTE, TransformersBackend

# The instructions take about 590 of the tiny model's tokens: 700 leaves the
# short notes whole and cuts the long one.
OPTIONS = {"max_new_tokens": 32, "batch_size": 2, "max_prompt_tokens": 700}
NOTES = [
    NoteText(31, "Assessment: essential hypertension."),
    NoteText(7, "Chest pain on exertion, relieved by rest. " * 60),
    NoteText(12, "Type 2 diabetes mellitus with hyperglycemia; on metformin. Plan: recheck A1c."),
]


def spec(base_model: str, **fields) -> BackendSpec:
    return BackendSpec(
        name="tiny", backend="transformers", base_model=base_model, **{"options": OPTIONS, **fields}
    )


@pytest.fixture(scope="module")
def backend(tiny_llm_dir: Path) -> TransformersBackend:
    return TransformersBackend(spec(str(tiny_llm_dir)), packaged_hierarchy())


def assert_contract(prediction: NotePrediction) -> None:
    """What every prediction promises, whatever the model wrote."""
    hierarchy = packaged_hierarchy()
    assert prediction.raw_output.strip()
    assert prediction.prompt_version == PROMPT_VERSION
    assert isinstance(prediction.parse_problem, str)
    for code in prediction.codes:
        if code.valid:
            entry = hierarchy.entry(code.code)
            assert entry is not None, code
            assert entry.billable, code
        else:
            assert code.problem, code


def test_predicts_a_batch_in_order_and_cuts_only_the_long_note_to_fit(backend):
    predictions = backend.predict(NOTES)
    assert [p.note_id for p in predictions] == [31, 7, 12]
    for prediction in predictions:
        assert_contract(prediction)
    cut = [p.reasoning.startswith("[Coding Desk: the note was cut") for p in predictions]
    assert cut == [False, True, False]
    assert "to its first 1" in predictions[1].reasoning  # 700 - ~590 tokens kept
    # The tiny model was taught the tag format; its codes are noise but read.
    assert any(p.codes and not p.parse_problem for p in predictions)


def test_empty_note_is_answered_without_the_model(backend):
    predictions = backend.predict([NoteText(1, "  \n"), NOTES[0]])
    assert predictions[0] == NotePrediction(
        1, (), parse_problem=EMPTY_NOTE, prompt_version=PROMPT_VERSION
    )
    assert predictions[1].note_id == NOTES[0].note_id
    assert_contract(predictions[1])


def test_lora_adapter_is_loaded_and_predicts(tiny_llm_dir, tmp_path, backend):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_llm_dir, local_files_only=True)
    # Non-zero weights (a fresh adapter is a no-op), so applying it shows.
    config = LoraConfig(
        r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False
    )
    get_peft_model(base, config).save_pretrained(tmp_path / "adapter")

    adapted = TransformersBackend(
        spec(str(tiny_llm_dir), adapter_path=str(tmp_path / "adapter")), packaged_hierarchy()
    )
    models: list[Any] = [backend.model, adapted.model]
    base_weight, adapted_weight = (m.model.layers[0].self_attn.q_proj.weight for m in models)
    assert not bool((base_weight == adapted_weight).all())
    predictions = adapted.predict(NOTES[:2])
    assert [p.note_id for p in predictions] == [31, 7]
    for prediction in predictions:
        assert_contract(prediction)


def test_missing_model_folder_is_a_config_error(tmp_path):
    with pytest.raises(BackendConfigError, match=r"model folder .* does not exist"):
        TransformersBackend(spec(str(tmp_path / "nowhere")), packaged_hierarchy())


def test_empty_model_name_is_a_config_error():
    with pytest.raises(BackendConfigError, match="names no base model"):
        TransformersBackend(spec(" "), packaged_hierarchy())


def test_folder_without_a_tokenizer_is_a_config_error(tmp_path):
    with pytest.raises(BackendConfigError, match="cannot load the tokenizer"):
        TransformersBackend(spec(str(tmp_path)), packaged_hierarchy())


def test_folder_with_a_tokenizer_but_no_model_is_a_config_error(tiny_llm_dir, tmp_path):
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        shutil.copy(tiny_llm_dir / name, tmp_path / name)
    with pytest.raises(BackendConfigError, match="cannot load the model"):
        TransformersBackend(spec(str(tmp_path)), packaged_hierarchy())


def test_adapter_folder_without_adapter_config_is_a_config_error(tiny_llm_dir, tmp_path):
    with pytest.raises(BackendConfigError, match=r"not a folder with an adapter_config\.json"):
        TransformersBackend(
            spec(str(tiny_llm_dir), adapter_path=str(tmp_path)), packaged_hierarchy()
        )


def test_adapter_for_another_model_is_a_config_error(tiny_llm_dir, tmp_path):
    (tmp_path / "adapter_config.json").write_text(
        '{"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": 4, "lora_alpha": 8,'
        ' "target_modules": ["wq", "wv"]}'
    )
    with pytest.raises(BackendConfigError, match="cannot apply the LoRA adapter"):
        TransformersBackend(
            spec(str(tiny_llm_dir), adapter_path=str(tmp_path)), packaged_hierarchy()
        )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"batch_size": 0}, "'batch_size' must be a whole number of 1 or more, not 0"),
        ({"max_new_tokens": "32"}, "'max_new_tokens' must be a whole number"),
        ({"max_prompt_tokens": True}, "'max_prompt_tokens' must be a whole number"),
        ({"max_prompt_tokens": 50}, "the instructions alone take"),
    ],
)
def test_bad_options_are_config_errors(tiny_llm_dir, options, message):
    bad = BackendSpec(
        name="t", backend="transformers", base_model=str(tiny_llm_dir), options=options
    )
    with pytest.raises(BackendConfigError, match=message):
        TransformersBackend(bad, packaged_hierarchy())
