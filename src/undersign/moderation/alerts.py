"""Alerts to moderators when a petition's held signatures in one hour reach
``ABUSE_ALERT_PER_HOUR`` (docs/abuse.md, "Moderators' tools").

Computed from the database by a periodic job, never on the sign path: one ``AbuseAlert`` row
per petition and hour (a unique constraint), so each is sent once however often the job runs;
an e-mail to the moderators through the outbox (its renderer in ``moderation.emails``), and,
when ``ABUSE_ALERT_WEBHOOK_URL`` is set, a JSON POST from a task, retried by the job until it
answers. Both carry the petition's id and counts only: never a network, a domain or an address
(a chat channel or a mailbox is read by more people than the moderation pages)."""

from __future__ import annotations

import json
import logging
import urllib.request
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from undersign.core.models import OutboundEmail
from undersign.core.outbox import outbox_add
from undersign.core.wakeups import wake_on_commit
from undersign.moderation.bulk_selectors import held_per_hour, submissions_in_hour
from undersign.moderation.models import AbuseAlert

log = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_SECONDS = 5
# A webhook that keeps failing is given up after this many tries (the e-mail still went).
WEBHOOK_MAX_ATTEMPTS = 5


def abuse_alerts_raise(now: datetime | None = None) -> int:
    """The periodic job: for each open petition and each hour since the previous one began,
    alert once when its held signatures reach ``ABUSE_ALERT_PER_HOUR``; then retry webhooks
    not yet delivered. Returns how many alerts it raised."""
    now = now or timezone.now()
    since = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    raised = 0
    for row in held_per_hour(since=since):
        if row["held"] < settings.ABUSE_ALERT_PER_HOUR:
            continue
        if AbuseAlert.objects.filter(petition_id=row["petition_id"], hour=row["hour"]).exists():
            continue
        raised += _alert_add(
            petition_id=row["petition_id"],
            hour=row["hour"],
            held=row["held"],
            submissions=submissions_in_hour(petition_id=row["petition_id"], hour=row["hour"]),
            now=now,
        )
    abuse_alert_webhooks_retry()
    return raised


def _alert_add(*, petition_id: int, hour: datetime, held: int, submissions: int, now: datetime) -> bool:
    try:
        with transaction.atomic():
            alert = AbuseAlert.objects.create(
                petition_id=petition_id, hour=hour, held=held, submissions=max(submissions, held), created_at=now
            )
            outbox_add(kind=OutboundEmail.Kind.ABUSE_ALERT, petition_id=petition_id, signature_id=None)
            if settings.ABUSE_ALERT_WEBHOOK_URL:
                alert_id = alert.pk
                wake_on_commit(
                    "undersign.moderation.tasks.post_abuse_alert",
                    alert_id,
                    run_here=lambda: abuse_alert_webhook_post(alert_id=alert_id),
                )
    except IntegrityError:
        return False  # another run raised it first (abusealert_once_per_hour)
    return True


def abuse_alert_payload(alert: AbuseAlert) -> dict[str, object]:
    return {
        "petition_id": alert.petition_id,
        "hour": alert.hour.isoformat(),
        "held": alert.held,
        "submissions": alert.submissions,
    }


def abuse_alert_webhook_post(*, alert_id: int) -> bool:
    """POST the alert's JSON to ``ABUSE_ALERT_WEBHOOK_URL`` (timeout
    ``WEBHOOK_TIMEOUT_SECONDS``); on a 2xx answer the alert is marked sent. Returns whether it
    was. A failure is logged without the URL (it may carry a secret) and tried again by the
    job."""
    url = settings.ABUSE_ALERT_WEBHOOK_URL
    alert = AbuseAlert.objects.filter(pk=alert_id, webhook_sent_at__isnull=True).first()
    if not url or alert is None or alert.webhook_attempts >= WEBHOOK_MAX_ATTEMPTS:
        return False
    if not url.startswith(("https://", "http://")):
        log.warning("ABUSE_ALERT_WEBHOOK_URL is not an http(s) URL: alert %s not posted", alert.pk)
        return False
    AbuseAlert.objects.filter(pk=alert.pk).update(webhook_attempts=alert.webhook_attempts + 1)
    request = urllib.request.Request(  # noqa: S310 - an operator's http(s) URL, checked above
        url,
        data=json.dumps(abuse_alert_payload(alert)).encode("utf-8"),
        headers={"Content-Type": "application/json", "User-Agent": "undersign-abuse-alert"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as answer:  # noqa: S310
            ok = 200 <= answer.status < 300
    except (OSError, ValueError) as error:
        log.warning("abuse alert webhook failed for alert %s: %s", alert.pk, type(error).__name__)
        return False
    if ok:
        AbuseAlert.objects.filter(pk=alert.pk).update(webhook_sent_at=timezone.now())
    return ok


def abuse_alert_webhooks_retry() -> int:
    """Post the alerts whose webhook has not answered yet (within their attempts)."""
    if not settings.ABUSE_ALERT_WEBHOOK_URL:
        return 0
    waiting = AbuseAlert.objects.filter(webhook_sent_at__isnull=True, webhook_attempts__lt=WEBHOOK_MAX_ATTEMPTS)
    return sum(abuse_alert_webhook_post(alert_id=pk) for pk in waiting.order_by("pk").values_list("pk", flat=True))
