"""Suggestions out: prediction jobs split into chunks that Celery workers run
through a model version's backend, and the pages that watch them.
"""
