"""Building a backend for a model version, once per process.

Loading a model costs seconds to minutes, so a worker keeps the backend it
built and reuses it for every chunk of the same version. The cache key holds
everything that changes what is loaded, so a promoted or edited version is
picked up by a running worker without a restart. One backend is kept at a
time: a GPU rarely holds two models, and a worker rarely switches.

An embedding model needs its code index, built once a machine. A
prediction chunk (``partial_index_ok``) does not build it in its task: it
waits, for at most ``index_wait_s()``, while one process of the machine builds
it in the background, and predicts from the codes embedded first when the
whole index is not ready yet (``worker.backends.index_warmup``). Everything
else (a training run's evaluation, benchmarks) uses the whole index only.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.text import slugify

from coding_app.codes.entry import CodeEntry
from coding_app.codes.hierarchy import Hierarchy
from coding_app.codes.store import active_release, current_hierarchy
from worker.backends.base import Backend, BackendConfigError, BackendSpec
from worker.backends.index_warmup import (
    PartialIndexBackend,
    first_predictions_wait,
    index_priority_codes,
)
from worker.models import ModelVersion

if TYPE_CHECKING:
    # The embedding package loads torch; only a call that needs it imports it.
    from worker.backends.embedding.code_index import EncoderAndIndex
    from worker.backends.embedding.index_store import IndexTarget
    from worker.backends.embedding.index_warm import UsableIndex

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_loaded: dict[str, Backend] = {}
_targets: dict[tuple[str, str, tuple[str, ...]], IndexTarget] = {}


def backend_for(version: ModelVersion, *, partial_index_ok: bool = False) -> Backend:
    """The process's backend for ``version``. With ``partial_index_ok`` an
    embedding backend may rank only the codes embedded first while the
    code index is prepared (its predictions say so); it waits for an index
    at most ``index_wait_s()`` and raises ``TransientBackendError`` then."""
    spec = version_spec(version)
    with _lock:
        usable = None
        if partial_index_ok and spec.backend == ModelVersion.Backend.EMBEDDING:
            usable = _usable_index(spec)
        partial = usable if usable is not None and not usable.complete else None
        key = _cache_key(spec, partial)
        backend = _loaded.get(key)
        if backend is None:
            _loaded.clear()
            backend = _loaded[key] = backend_build(spec, partial=partial)
        return backend


def version_spec(version: ModelVersion) -> BackendSpec:
    """What a backend needs to know of a version, and nothing of the registry."""
    return BackendSpec(
        name=version.name,
        backend=version.backend,
        base_model=version.base_model,
        adapter_path=version.adapter_path,
        served_name=version.served_name,
        options=dict(version.options),
    )


def backend_build(spec: BackendSpec, *, partial: UsableIndex | None = None) -> Backend:
    """A fresh backend for ``spec`` (an embedding one on the ``partial``
    index when given); raises BackendConfigError when it cannot be."""
    hierarchy = current_hierarchy()
    if spec.backend == ModelVersion.Backend.EMBEDDING:
        if partial is not None:
            return _partial_embedding_backend(spec, hierarchy, partial)
        return _embedding_backend(spec, hierarchy, _embedding_entries(hierarchy))
    if spec.backend == ModelVersion.Backend.TRANSFORMERS:
        from worker.backends.llm.transformers_backend import TransformersBackend

        return TransformersBackend(spec, hierarchy)
    if spec.backend == ModelVersion.Backend.OPENAI:
        from worker.backends.llm.openai_backend import OpenAIBackend

        # A version may name its own server (options.base_url), so that two
        # servers can run side by side; otherwise the configured one.
        base_url = str(spec.options.get("base_url") or settings.OPENAI_BASE_URL)
        return OpenAIBackend(spec, hierarchy, base_url=base_url, api_key=settings.OPENAI_API_KEY)
    raise BackendConfigError(f"Model version {spec.name!r} has an unknown backend {spec.backend!r}")


def _embedding_backend(
    spec: BackendSpec, hierarchy: Hierarchy, entries: Sequence[CodeEntry] | None
) -> Backend:
    from worker.backends.embedding.backend import EmbeddingBackend

    return EmbeddingBackend(
        spec,
        hierarchy,
        cache_dir=code_index_cache_dir(),
        release_key=release_key(),
        entries=entries,
    )


def _partial_embedding_backend(
    spec: BackendSpec, hierarchy: Hierarchy, partial: UsableIndex
) -> Backend:
    try:
        backend = _embedding_backend(spec, hierarchy, partial.entries)
    except BackendConfigError as error:
        # A trained model may know none of the codes embedded first: it
        # waits for the whole index (as long as a chunk may) instead.
        logger.warning("Waiting for the whole code index: %s", error)
        _usable_index(spec, partial=False)
        return _embedding_backend(spec, hierarchy, _embedding_entries(hierarchy))
    return PartialIndexBackend(backend, codes=len(partial.entries), codes_total=partial.codes_total)


def _usable_index(spec: BackendSpec, *, partial: bool = True) -> UsableIndex:
    """The index an embedding prediction can use now (see the module)."""
    from worker.backends.embedding.index_warm import code_index_usable

    hierarchy = current_hierarchy()
    entries = _embedding_entries(hierarchy)
    return code_index_usable(
        _index_target(spec, hierarchy, entries),
        priority=_priority(hierarchy, entries),
        partial=partial and settings.EMBEDDING_PARTIAL_INDEX,
        wait_s=index_wait_s(),
    )


def code_index_prepare(version: ModelVersion) -> bool:
    """Build the code index of an embedding ``version`` in this process now
    (the codes the notes need first), unless it is built or another process
    is building it; whether it is built. ``manage.py prepare_code_index``."""
    from worker.backends.embedding.index_warm import code_index_build_here

    if version.backend != ModelVersion.Backend.EMBEDDING:
        raise BackendConfigError(f"{version} is not an embedding version")
    hierarchy = current_hierarchy()
    entries = _embedding_entries(hierarchy)
    target = _index_target(version_spec(version), hierarchy, entries)
    return code_index_build_here(
        target,
        priority=_priority(hierarchy, entries),
        head_start=lambda: first_predictions_wait(version),
    )


def _priority(hierarchy: Hierarchy, entries: list[CodeEntry] | None) -> Callable[[], list[str]]:
    """What a build embeds first; nothing when predictions wait for the whole index."""
    if not settings.EMBEDDING_PARTIAL_INDEX:
        return list
    return lambda: index_priority_codes(hierarchy, entries or list(hierarchy))


def _index_target(
    spec: BackendSpec, hierarchy: Hierarchy, entries: list[CodeEntry] | None
) -> IndexTarget:
    """The index a version ranks with, kept per process: its digest reads
    every code's texts, too slow to repeat for each chunk."""
    from worker.backends.embedding.code_index import encoder_name_for
    from worker.backends.embedding.index_store import index_target

    encoder_name = encoder_name_for(spec.base_model)
    key = (encoder_name, release_key(), tuple(settings.EMBEDDING_CODE_CHAPTERS))
    target = _targets.get(key)
    if target is None or target.cache_dir != code_index_cache_dir():
        target = index_target(
            hierarchy if entries is None else entries,
            encoder_name=encoder_name,
            release_key=key[1],
            cache_dir=code_index_cache_dir(),
        )
        _targets.clear()
        _targets[key] = target
    return target


def index_wait_s() -> float:
    """How long a prediction chunk waits for a code index before it retries
    (with the task's backoff): well inside the task's soft time limit, so
    the chunk still has time to predict once the index is there."""
    return float(max(30, min(600, settings.CELERY_TASK_SOFT_TIME_LIMIT - 300)))


def code_index_cache_dir() -> Path:
    """Where the code indexes of this machine are built and kept."""
    return Path(settings.MODEL_DIR) / "cache"


def embedding_encoder_and_index(version: ModelVersion) -> EncoderAndIndex:
    """The encoder and code index an embedding version ranks with, loaded as
    its backend loads them: what a head run trains on, without building a
    backend (nor loading the version's own head)."""
    from worker.backends.embedding.code_index import encoder_and_index

    if version.backend != ModelVersion.Backend.EMBEDDING:
        raise BackendConfigError(f"{version} is not an embedding version")
    hierarchy = current_hierarchy()
    return encoder_and_index(
        version.base_model,
        hierarchy,
        cache_dir=code_index_cache_dir(),
        release_key=release_key(),
        entries=_embedding_entries(hierarchy),
    )


def _embedding_entries(hierarchy: Hierarchy) -> list[CodeEntry] | None:
    """The codes an embedding model may suggest: those of the configured
    chapters, or all of them (None)."""
    chapters = set(settings.EMBEDDING_CODE_CHAPTERS)
    return [e for e in hierarchy if e.chapter in chapters] if chapters else None


def release_key() -> str:
    """Names the loaded release in cache file names: a reload with new files is new."""
    release = active_release()
    if release is None:
        return "none"
    return f"{slugify(release.name)}-{release.checksum[:12]}"


def _cache_key(spec: BackendSpec, partial: UsableIndex | None = None) -> str:
    fields = [spec.backend, spec.base_model, spec.adapter_path, spec.served_name, release_key()]
    if spec.backend == ModelVersion.Backend.EMBEDDING:
        # Which codes it ranks, from where, and whether all of them yet.
        fields += [",".join(settings.EMBEDDING_CODE_CHAPTERS), str(code_index_cache_dir())]
        fields.append(f"partial-index-{len(partial.entries)}" if partial else "whole-index")
    return json.dumps([*fields, dict(spec.options)], sort_keys=True, default=str)
