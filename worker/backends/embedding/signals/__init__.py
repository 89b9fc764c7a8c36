"""The embedding model's learned signals, combined by a learned ranker.

A trained version of the ``embedding`` family (recipe ``embedding-v3``)
suggests codes from four signals, each learned from the desk's decisions:

- ``mentions`` + ``lexicon``: phrases that evidence a code, mined from the
  notes coders gave that code and from the evidence they marked, plus the
  code set's own wording (``terminology``), matched with negation, family
  and history context (negspacy's NegEx on spaCy);
- ``text_model``: the nearest reviewed notes (the codes coders gave notes
  like this one) and per-code linear classifiers over the note's TF-IDF;
- the zero-shot sentence-to-code similarity of the backend, for codes never
  seen in a review.

``features`` turns each (note, candidate code) into a row, ``ranker`` learns
from them (gradient boosting, calibrated, with the F1-maximising cut-off),
``fit`` trains the whole thing with cross-fitting, ``store`` saves and loads
it, and ``suggest`` ranks a batch of notes and explains each suggestion.
"""
