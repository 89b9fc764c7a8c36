"""Training models: export snapshots (``exports``), training runs and
evaluations (``runs``). Each module adds its import line here."""

from training.models.exports import ExportSnapshot as ExportSnapshot
from training.models.runs import Evaluation as Evaluation
from training.models.runs import RetrainSchedule as RetrainSchedule
from training.models.runs import TrainingRun as TrainingRun
