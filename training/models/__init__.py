"""Training models: export snapshots (``exports``), training runs and
evaluations (``runs``). Each module adds its import line here."""

from training.models.exports import ExportSnapshot as ExportSnapshot
