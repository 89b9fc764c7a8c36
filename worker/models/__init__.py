from worker.models.notes import Note
from worker.models.tokens import ApiToken
from worker.models.uploads import RejectedRow, UploadBatch

__all__ = ["ApiToken", "Note", "RejectedRow", "UploadBatch"]
