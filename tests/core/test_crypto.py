import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import make_petition, signer
from undersign.core import crypto
from undersign.core.crypto import (
    DecryptionError,
    _DataKeyCache,
    data_key_destroy,
    data_keys,
    dedup_tag,
    normalise_email,
    open_sealed,
    seal,
    sealed_key_id,
)
from undersign.core.models import DataKey


class TestNormaliseEmail:
    @pytest.mark.parametrize(
        ("given", "expected"),
        [
            ("Suzie@Example.ORG", "suzie@example.org"),
            ("suzie+petitions@example.org", "suzie@example.org"),
            ("s.u.z.i.e@gmail.com", "suzie@gmail.com"),
            ("S.Uzie+x@GoogleMail.com", "suzie@gmail.com"),
            ("ｓuzie@example.org", "suzie@example.org"),  # full-width letter, NFKC
            ("s.uzie@example.org", "s.uzie@example.org"),  # dots matter outside Gmail
        ],
    )
    def test_forms_of_one_mailbox_agree(self, given, expected):
        assert normalise_email(given) == expected


class TestDedupTag:
    def test_same_person_same_petition(self):
        petition = uuid.uuid4()
        assert dedup_tag(petition, "Suzie+a@example.org") == dedup_tag(petition, "suzie@example.org")

    def test_differs_across_petitions(self):
        assert dedup_tag(uuid.uuid4(), "suzie@example.org") != dedup_tag(uuid.uuid4(), "suzie@example.org")

    def test_fixed_width_petition_part_keeps_concatenations_apart(self):
        one = uuid.UUID(int=1)
        twelve = uuid.UUID(int=12)
        assert dedup_tag(one, "23@x.org") != dedup_tag(twelve, "3@x.org")


@pytest.mark.django_db
class TestSealing:
    def test_round_trip_and_key_id(self):
        petition = make_petition()
        blob = seal(petition.data_key_id, "Zoë Example", context=b"ctx")
        assert sealed_key_id(blob) == petition.data_key_id
        assert "Zoë".encode() not in blob
        assert open_sealed(blob, context=b"ctx") == "Zoë Example"

    def test_context_binds_value_to_its_place(self):
        petition = make_petition()
        blob = seal(petition.data_key_id, "Suzie", context=b"row-1/name")
        with pytest.raises(DecryptionError):
            open_sealed(blob, context=b"row-2/name")

    def test_tampering_is_detected(self):
        petition = make_petition()
        blob = bytearray(seal(petition.data_key_id, "Suzie", context=b"c"))
        blob[-1] ^= 1
        with pytest.raises(DecryptionError):
            open_sealed(bytes(blob), context=b"c")

    def test_destroyed_data_key_shreds_the_petitions_data(self):
        petition = make_petition()
        blob = seal(petition.data_key_id, "Suzie", context=b"c")
        DataKey.objects.filter(key_id=petition.data_key_id).update(wrapped_key=None, destroyed_at="2026-01-01T00:00Z")
        data_keys.forget(petition.data_key_id)
        with pytest.raises(DecryptionError, match="destroyed"):
            open_sealed(blob, context=b"c")

    def test_each_petition_has_its_own_data_key(self):
        first, second = make_petition(creator=signer()), make_petition(creator=signer())
        assert first.data_key_id != second.data_key_id
        blob = seal(first.data_key_id, "x", context=b"c")
        assert sealed_key_id(blob) != second.data_key_id


class Clock:
    """A monotonic clock the test moves by hand: no sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def key_lookups(cache: _DataKeyCache, key_id: str, times: int = 1) -> int:
    """How many queries ``times`` lookups of ``key_id`` cost."""
    with CaptureQueriesContext(connection) as queries:
        for _ in range(times):
            cache.get(key_id)
    return len(queries)


@pytest.mark.django_db
class TestDataKeyCache:
    def test_one_lookup_per_key_per_interval(self, settings):
        settings.DATA_KEY_CACHE_SECONDS = 60
        clock = Clock()
        cache = _DataKeyCache(clock=clock)
        key_id = make_petition().data_key_id
        assert key_lookups(cache, key_id, times=50) == 1  # the signing path's cost stays one lookup
        clock.now += 59.9
        assert key_lookups(cache, key_id) == 0
        clock.now += 0.1
        assert key_lookups(cache, key_id, times=50) == 1  # aged out: read again, once

    def test_zero_seconds_keeps_nothing(self, settings):
        settings.DATA_KEY_CACHE_SECONDS = 0
        cache = _DataKeyCache(clock=Clock())
        key_id = make_petition().data_key_id
        assert key_lookups(cache, key_id, times=3) == 3

    def test_another_process_stops_serving_a_destroyed_key_within_the_bound(self, settings, monkeypatch):
        """Two caches over one database, as two processes: the one that destroys the key stops
        at once; the other serves it until its entry is DATA_KEY_CACHE_SECONDS old, no longer."""
        settings.DATA_KEY_CACHE_SECONDS = 60
        clock = Clock()
        here, there = _DataKeyCache(clock=clock), _DataKeyCache(clock=clock)
        monkeypatch.setattr(crypto, "data_keys", here)  # this process's cache
        petition = make_petition()
        key_id = petition.data_key_id
        blob = seal(key_id, "Suzie", context=b"c")
        here.get(key_id)
        there.get(key_id)
        clock.now += 20

        assert data_key_destroy(key_id=key_id, now=timezone.now()) is True
        with pytest.raises(DecryptionError, match="destroyed"):
            open_sealed(blob, context=b"c")  # here: gone at once
        with pytest.raises(DecryptionError):
            here.get(key_id)

        clock.now += 39.9  # there: its entry is 59.9 s old, still within the bound
        monkeypatch.setattr(crypto, "data_keys", there)
        assert open_sealed(blob, context=b"c") == "Suzie"
        clock.now += 0.1  # 60 s: the bound
        with pytest.raises(DecryptionError, match="destroyed"):
            open_sealed(blob, context=b"c")
        with pytest.raises(DecryptionError):
            there.get(key_id)  # and it never comes back

    def test_destroying_erases_the_wrapped_key_once(self):
        petition = make_petition()
        now = timezone.now()
        assert data_key_destroy(key_id=petition.data_key_id, now=now) is True
        row = DataKey.objects.get(key_id=petition.data_key_id)
        assert row.wrapped_key is None and row.destroyed_at == now
        assert data_key_destroy(key_id=petition.data_key_id, now=timezone.now()) is False
        assert DataKey.objects.get(key_id=petition.data_key_id).destroyed_at == now
        other = make_petition(creator=signer())
        assert DataKey.objects.get(key_id=other.data_key_id).wrapped_key is not None
