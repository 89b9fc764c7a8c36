"""Building a backend for a model version, once per process.

Loading a model costs seconds to minutes, so a worker keeps the backend it
built and reuses it for every chunk of the same version. The cache key holds
everything that changes what is loaded, so a promoted or edited version is
picked up by a running worker without a restart. One backend is kept at a
time: a GPU rarely holds two models, and a worker rarely switches.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.text import slugify

from coding_app.codes.entry import CodeEntry
from coding_app.codes.hierarchy import Hierarchy
from coding_app.codes.store import active_release, current_hierarchy
from worker.backends.base import Backend, BackendConfigError, BackendSpec
from worker.models import ModelVersion

if TYPE_CHECKING:
    # The embedding package loads torch; only a call that needs it imports it.
    from worker.backends.embedding.code_index import EncoderAndIndex

_lock = threading.Lock()
_loaded: dict[str, Backend] = {}


def backend_for(version: ModelVersion) -> Backend:
    spec = version_spec(version)
    key = _cache_key(spec)
    with _lock:
        backend = _loaded.get(key)
        if backend is None:
            _loaded.clear()
            backend = _loaded[key] = backend_build(spec)
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


def backend_build(spec: BackendSpec) -> Backend:
    """A fresh backend for ``spec``; raises BackendConfigError when it cannot be."""
    hierarchy = current_hierarchy()
    if spec.backend == ModelVersion.Backend.EMBEDDING:
        from worker.backends.embedding.backend import EmbeddingBackend

        return EmbeddingBackend(
            spec,
            hierarchy,
            cache_dir=settings.MODEL_DIR / "cache",
            release_key=release_key(),
            entries=_embedding_entries(hierarchy),
        )
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
        cache_dir=settings.MODEL_DIR / "cache",
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


def _cache_key(spec: BackendSpec) -> str:
    fields = [spec.backend, spec.base_model, spec.adapter_path, spec.served_name, release_key()]
    return json.dumps([*fields, dict(spec.options)], sort_keys=True, default=str)
