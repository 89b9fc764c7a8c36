"""Coding Desk: the Django project and the domain core every app shares."""

from coding_app.celery import app as celery_app

__all__ = ["celery_app"]
