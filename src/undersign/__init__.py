"""Undersign: petitions whose counts can be trusted and whose signers are protected."""

from undersign.celery import app as celery_app

__version__ = "0.1.0"
__all__ = ["celery_app"]
