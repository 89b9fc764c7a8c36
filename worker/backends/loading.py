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

from django.conf import settings
from django.utils.text import slugify

from coding_app.codes.store import active_release, current_hierarchy
from worker.backends.base import Backend, BackendConfigError, BackendSpec
from worker.models import ModelVersion
from worker.registry.versions import version_spec

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


def backend_build(spec: BackendSpec) -> Backend:
    """A fresh backend for ``spec``; raises BackendConfigError when it cannot be."""
    hierarchy = current_hierarchy()
    if spec.backend == ModelVersion.Backend.EMBEDDING:
        from worker.backends.embedding.backend import EmbeddingBackend

        chapters = set(settings.EMBEDDING_CODE_CHAPTERS)
        return EmbeddingBackend(
            spec,
            hierarchy,
            cache_dir=settings.MODEL_DIR / "cache",
            release_key=release_key(),
            entries=[e for e in hierarchy if e.chapter in chapters] if chapters else None,
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


def release_key() -> str:
    """Names the loaded release in cache file names: a reload with new files is new."""
    release = active_release()
    if release is None:
        return "none"
    return f"{slugify(release.name)}-{release.checksum[:12]}"


def _cache_key(spec: BackendSpec) -> str:
    fields = [spec.backend, spec.base_model, spec.adapter_path, spec.served_name, release_key()]
    return json.dumps([*fields, dict(spec.options)], sort_keys=True, default=str)
