"""Waking a task after commit by name: with a broker the wake-up is published, without one the
work runs here; either way only once the change is committed."""

from __future__ import annotations

import pytest

from undersign.celery import app
from undersign.core.wakeups import wake_on_commit

pytestmark = pytest.mark.django_db


def test_with_a_broker_the_task_is_published_by_name_after_commit(
    settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    published, ran = [], []
    monkeypatch.setattr(app, "send_task", lambda name, args: published.append((name, args)))
    with django_capture_on_commit_callbacks(execute=True):
        wake_on_commit("undersign.moderation.tasks.deliver_response_emails", 7, run_here=lambda: ran.append(7))
        assert published == []  # nothing before the commit
    assert published == [("undersign.moderation.tasks.deliver_response_emails", [7])]
    assert ran == []
    # The name a caller wakes is the task's real name (the worker finds it by that name).
    from undersign.moderation.tasks import deliver_response_emails

    assert deliver_response_emails.name == "undersign.moderation.tasks.deliver_response_emails"


def test_without_a_broker_the_work_runs_here_after_commit(settings, django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    ran = []
    with django_capture_on_commit_callbacks(execute=True):
        wake_on_commit("undersign.moderation.tasks.deliver_response_emails", 7, run_here=lambda: ran.append(7))
        assert ran == []
    assert ran == [7]
