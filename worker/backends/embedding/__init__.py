"""The embedding model: MiniLM sentence vectors ranked against ICD-10-CM codes.

``sentences`` cuts a note into spans, ``encoder`` loads the sentence model
once per process, ``code_index`` holds the billable codes' vectors (cached on
disk; ``encoder_and_index`` loads both as a version names them) and
``head`` is the trained multi-label head that sharpens the ranking (its
shape, the similarity calibration it starts from, its file format), fitted
by ``head_fit``. ``ranking`` holds the options and the cut of the ranked
codes, ``rationale`` the evidence and the texts that explain a suggestion;
``worker.backends.embedding.backend`` puts them together behind the backend
interface.
"""
