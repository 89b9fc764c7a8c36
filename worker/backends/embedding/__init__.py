"""The embedding model: MiniLM sentence vectors ranked against ICD-10-CM codes.

``sentences`` cuts a note into spans, ``encoder`` loads the sentence model
once per process, ``code_index`` holds the billable codes' vectors (cached on
disk) and ``head`` is the trained multi-label head that sharpens the ranking.
``worker.backends.embedding.backend`` puts them together behind the backend
interface.
"""
