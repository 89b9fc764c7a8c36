"""Loading a promoted LoRA adapter into a running vLLM server.

vLLM started with ``--enable-lora`` and ``VLLM_ALLOW_RUNTIME_LORA_UPDATING=1``
takes new adapters at run time: ``POST /v1/load_lora_adapter`` with the name
requests will use (the version's ``served_name``) and the adapter folder as
the server sees it. So promoting an ``openai`` version puts it to work
without restarting the server. The folder must be reachable by the server
under the same path (the compose file mounts the model folder into both).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from django.conf import settings

from worker.models import ModelVersion

TIMEOUT_S = 60


class AdapterLoadError(Exception):
    """The server refused or could not be reached; the message says which."""


def openai_adapter_load(version: ModelVersion) -> bool:
    """Ask the version's server to load its adapter; False when there is
    nothing to load (no adapter, or not an ``openai`` version)."""
    if version.backend != ModelVersion.Backend.OPENAI or not version.adapter_path:
        return False
    base_url = str(version.options.get("base_url") or settings.OPENAI_BASE_URL).rstrip("/")
    body = {"lora_name": version.served_name or version.name, "lora_path": version.adapter_path}
    request = urllib.request.Request(
        f"{base_url}/load_lora_adapter",
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {settings.OPENAI_API_KEY}",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S):
            return True
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")[:500]
        # vLLM answers 400 for an adapter it already holds under that name.
        if error.code == 400 and "already" in detail.lower():
            return True
        raise AdapterLoadError(
            f"{base_url} refused the adapter ({error.code}): {detail}"
        ) from error
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise AdapterLoadError(f"{base_url} could not be reached: {error}") from error
