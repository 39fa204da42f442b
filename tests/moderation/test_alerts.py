"""Alerts to moderators (``moderation.alerts``): once per petition and hour when its held
signatures reach ABUSE_ALERT_PER_HOUR, by e-mail through the outbox and by webhook, carrying
the petition's id and counts only."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tests.factories import deliver_outbox, make_petition
from tests.moderation.conftest import make_held
from undersign.moderation.alerts import abuse_alert_webhook_post, abuse_alerts_raise
from undersign.moderation.models import AbuseAlert
from undersign.petitions.models import PetitionState

pytestmark = pytest.mark.django_db


@pytest.fixture
def flooded(settings):
    settings.ABUSE_ALERT_PER_HOUR = 3
    petition = make_petition(action="Mend the bridge")
    for n in range(3):
        make_held(petition, email=f"bot{n}@flood.example", ip=f"203.0.113.{n}")
    deliver_outbox()
    return petition


@pytest.fixture
def webhook():
    """A local HTTP server that records the JSON it is sent."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"json": json.loads(body), "type": self.headers["Content-Type"]})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
    thread.join(timeout=10)


def test_moderators_are_mailed_once_with_the_petition_and_counts_only(
    flooded, moderator, mailoutbox, django_capture_on_commit_callbacks
):
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert abuse_alerts_raise() == 1
    deliver_outbox()
    [message] = mailoutbox
    assert message.bcc == ["mod@example.org"] and message.to == []
    assert f"Petition {flooded.pk} had 3 held signatures" in message.body
    assert "203.0.113" not in message.body + message.subject and "flood.example" not in message.body + message.subject
    assert "Mend the bridge" not in message.body + message.subject
    alert = AbuseAlert.objects.get()
    assert (alert.petition_id, alert.held, alert.submissions) == (
        flooded.pk,
        3,
        4,
    )  # the creator signed in this hour too
    # Again, and with more held in the same hour: no second alert.
    make_held(flooded, email="bot9@flood.example")
    assert abuse_alerts_raise() == 0
    deliver_outbox()
    assert len(mailoutbox) == 1


def test_below_the_level_or_on_a_closed_petition_nothing_is_sent(flooded, moderator, settings):
    settings.ABUSE_ALERT_PER_HOUR = 4
    assert abuse_alerts_raise() == 0
    settings.ABUSE_ALERT_PER_HOUR = 3
    type(flooded).objects.filter(pk=flooded.pk).update(state=PetitionState.CLOSED, closed_at=flooded.opened_at)
    assert abuse_alerts_raise() == 0
    assert not AbuseAlert.objects.exists()


def test_the_webhook_gets_petition_id_and_counts(
    flooded, moderator, settings, webhook, django_capture_on_commit_callbacks
):
    url, received = webhook
    settings.ABUSE_ALERT_WEBHOOK_URL = url
    with django_capture_on_commit_callbacks(execute=True):
        abuse_alerts_raise()
    alert = AbuseAlert.objects.get()
    [call] = received
    assert call["type"] == "application/json"
    assert call["json"] == {"petition_id": flooded.pk, "hour": alert.hour.isoformat(), "held": 3, "submissions": 4}
    assert alert.webhook_sent_at is not None
    assert abuse_alert_webhook_post(alert_id=alert.pk) is False  # sent once
    assert len(received) == 1


def test_a_webhook_that_does_not_answer_is_retried_by_the_job(flooded, moderator, settings, webhook):
    url, received = webhook
    settings.ABUSE_ALERT_WEBHOOK_URL = "http://127.0.0.1:9/nothing-listens"
    abuse_alerts_raise()
    alert = AbuseAlert.objects.get()
    assert abuse_alert_webhook_post(alert_id=alert.pk) is False
    alert.refresh_from_db()
    assert alert.webhook_sent_at is None and alert.webhook_attempts >= 1
    settings.ABUSE_ALERT_WEBHOOK_URL = url
    abuse_alerts_raise()
    alert.refresh_from_db()
    assert alert.webhook_sent_at is not None and len(received) == 1
