"""Celery carries wake-ups only: every task's work is also found by a periodic sweep over the
database, so a lost message delays work and never loses it."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "undersign.settings")

app = Celery("undersign")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
