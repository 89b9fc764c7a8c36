from worker.models.notes import Note
from worker.models.predictions import Prediction, PredictionChunk, PredictionJob, Suggestion
from worker.models.registry import ModelVersion
from worker.models.tokens import ApiToken
from worker.models.uploads import RejectedRow, UploadBatch

__all__ = [
    "ApiToken",
    "ModelVersion",
    "Note",
    "Prediction",
    "PredictionChunk",
    "PredictionJob",
    "RejectedRow",
    "Suggestion",
    "UploadBatch",
]
