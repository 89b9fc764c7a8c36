"""Agreement statistics: the model against coders, coders against each other.

Every figure is aggregated in PostgreSQL (``sql.py`` holds the shared label
sets); Python only shapes the few result rows and, for the confidence
intervals, resamples per-note counts with numpy.
"""
