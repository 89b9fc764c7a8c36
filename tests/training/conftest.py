"""Fixtures of the training tests.

Every test here sees the loaded code set. The export tests write into a
storage folder of their own (``storage``) and the run tests into a model
folder of their own (``model_dir``); a module opts in with
``pytestmark = pytest.mark.usefixtures(...)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.coding_app.test_codes_support import ensure_code_set_loaded
from worker.models import ModelVersion
from worker.registry.versions import zero_shot_version_ensure


@pytest.fixture(autouse=True)
def code_set(django_db_setup: None, django_db_blocker: object) -> None:
    ensure_code_set_loaded(django_db_blocker)


@pytest.fixture
def storage(settings: Any, tmp_path: Path) -> Path:
    """A storage folder of the test's own."""
    settings.STORAGE_DIR = tmp_path / "storage"
    return tmp_path / "storage"


@pytest.fixture
def model_dir(settings: Any, tmp_path: Path) -> Path:
    """Runs write under MODEL_DIR/runs; the code-index cache stays shared."""
    shared_cache = Path(settings.MODEL_DIR) / "cache"
    # On a fresh clone the shared cache does not exist yet: a link to nothing
    # cannot be written through, and every run test would embed the codes anew.
    shared_cache.mkdir(parents=True, exist_ok=True)
    settings.MODEL_DIR = tmp_path / "models"
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "cache").symlink_to(shared_cache.resolve(), target_is_directory=True)
    return tmp_path / "models"


@pytest.fixture
def zero_shot(db: None) -> ModelVersion:
    return zero_shot_version_ensure()
