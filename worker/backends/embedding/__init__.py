"""The embedding model: MiniLM sentence vectors ranked against ICD-10-CM codes.

``sentences`` cuts a note into spans, ``encoder`` loads the sentence model
once per process, ``code_index`` holds the billable codes' vectors (cached on
disk; ``encoder_and_index`` loads both as a version names them).
``ranking`` holds the zero-shot options and the cut of the ranked codes,
``rationale`` the evidence and the texts that explain a suggestion.
A trained version ranks with ``signals`` (the learned suggester: mention
lexicon, nearest notes, per-code classifiers, learned ranker), wired in by
``learned``; ``zero_shot`` is the similarity signal both paths share.
``worker.backends.embedding.backend`` puts them together behind the backend
interface.
"""
