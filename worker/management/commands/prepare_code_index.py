from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from worker.backends.base import BackendConfigError
from worker.backends.loading import code_index_prepare
from worker.models import ModelVersion
from worker.registry.versions import active_version


class Command(BaseCommand):
    help = (
        "Build this machine's code index for the active embedding model now, outside any "
        "task time limit: the codes the stored notes need first, then the rest. Does "
        "nothing when it is built or another process is building it (workers wait for "
        "that one). make run starts it beside the worker."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        version = active_version(ModelVersion.Backend.EMBEDDING)
        if version is None:
            self.stdout.write("No embedding model is active: no code index to prepare.")
            return
        try:
            built = code_index_prepare(version)
        except BackendConfigError as error:
            raise CommandError(str(error)) from error
        if built:
            self.stdout.write(f"The code index of {version.name} is ready.")
        else:
            self.stdout.write("Another process is preparing the code index; it is left to it.")
