"""The job's query finds exactly the petitions the one rule (``personal_data_destruction_at``)
says are due: at every moment around every boundary, for every state."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import make_petition
from undersign.petitions.models import Petition, PetitionState
from undersign.retention.selectors import personal_data_destruction_at, petitions_personal_data_due

pytestmark = pytest.mark.django_db
S = PetitionState
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@pytest.fixture
def petitions(settings):
    settings.PERSONAL_DATA_RETENTION_DAYS = 2
    settings.REJECTED_PETITION_RETENTION_DAYS = 3
    settings.CONFIRMATION_GRACE_HOURS = 24
    base = timezone.now()
    made = []
    # Closed at its closing date, long after it, an hour after it, and with a closing date that
    # lies after the closing (the later of the two counts).
    zero = timedelta()
    for closed_offset, closing_offset in [(zero, zero), (zero, -5 * DAY), (HOUR, zero), (zero, 3 * HOUR)]:
        petition = make_petition(action="Closed", state=S.CLOSED)
        Petition.objects.filter(pk=petition.pk).update(
            closed_at=base + closed_offset, closing_date=base + closing_offset
        )
        made.append(petition.pk)
    for state in (S.REJECTED, S.HIDDEN):
        petition = make_petition(action="Rejected", state=state)
        Petition.objects.filter(pk=petition.pk).update(rejected_at=base)
        made.append(petition.pk)
    for state in (S.OPEN, S.PENDING, S.VALIDATED, S.SPONSORED, S.FLAGGED):
        made.append(make_petition(action="Not yet", state=state).pk)
    destroyed = make_petition(action="Done already", state=S.CLOSED)
    Petition.objects.filter(pk=destroyed.pk).update(closed_at=base - 10 * DAY, personal_data_destroyed_at=base)
    made.append(destroyed.pk)
    return base, list(Petition.objects.filter(pk__in=made))


def test_the_query_mirrors_the_rule_at_every_moment(petitions, settings):
    base, rows = petitions
    moments = {base + offset for offset in (-DAY, timedelta(), DAY, 2 * DAY, 3 * DAY, 4 * DAY, 10 * DAY)}
    for row in rows:  # and a second either side of each petition's own moment
        at = personal_data_destruction_at(row)
        if at is not None:
            moments |= {at - timedelta(seconds=1), at, at + timedelta(seconds=1)}
    checked = 0
    for now in sorted(moments):
        expected = {
            row.pk
            for row in rows
            if row.state != S.PENDING  # deleted outright by its own job
            and not row.personal_data_destroyed
            and (at := personal_data_destruction_at(row)) is not None
            and at <= now
        }
        assert set(petitions_personal_data_due(now=now).values_list("pk", flat=True)) == expected, now
        checked += bool(expected)
    assert checked  # some moments find petitions: the comparison is not between empty sets


def test_a_closed_petition_waits_for_the_confirmation_grace_even_with_no_retention(settings):
    settings.PERSONAL_DATA_RETENTION_DAYS = 0
    settings.CONFIRMATION_GRACE_HOURS = 24
    petition = make_petition(action="Closed", state=S.CLOSED)
    assert personal_data_destruction_at(petition) == petition.closed_at + 24 * HOUR
    assert not petitions_personal_data_due(now=petition.closed_at + 23 * HOUR).exists()
    assert petitions_personal_data_due(now=petition.closed_at + 24 * HOUR).get() == petition
