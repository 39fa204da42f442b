import dataclasses
import unicodedata
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import make_petition, signer
from undersign.core import crypto
from undersign.core.crypto import (
    DEDUP_V1,
    DEDUP_V2,
    DEDUP_VERSIONS,
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

FIXED_KEY = bytes(range(32))
FIXED_PETITION = uuid.UUID("12345678-1234-5678-1234-567812345678")


class TestNormaliseEmail:
    FORMS_OF_ONE_MAILBOX = [
        ("Suzie@Example.ORG", "suzie@example.org"),
        ("suzie+petitions@example.org", "suzie@example.org"),
        ("s.u.z.i.e@gmail.com", "suzie@gmail.com"),
        ("S.Uzie+x@GoogleMail.com", "suzie@gmail.com"),
        ("ｓuzie@example.org", "suzie@example.org"),  # full-width letter, NFKC
        ("s.uzie@example.org", "s.uzie@example.org"),  # dots matter outside Gmail
    ]

    @pytest.mark.parametrize("version", DEDUP_VERSIONS)
    @pytest.mark.parametrize(("given", "expected"), FORMS_OF_ONE_MAILBOX)
    def test_forms_of_one_mailbox_agree(self, given, expected, version):
        assert normalise_email(given, version=version) == expected

    @pytest.mark.parametrize(
        ("given", "expected"),
        [
            ("user@bücher.example", "user@xn--bcher-kva.example"),
            ("user@BÜCHER.example", "user@xn--bcher-kva.example"),
            ("user@xn--bcher-kva.example", "user@xn--bcher-kva.example"),
            ("user@XN--BCHER-KVA.EXAMPLE", "user@xn--bcher-kva.example"),
            ("user@bücher。example", "user@xn--bcher-kva.example"),  # an ideographic full stop
            ("user@почта.рф", "user@xn--80a1acny.xn--p1ai"),
            ("user@xn--80a1acny.xn--p1ai", "user@xn--80a1acny.xn--p1ai"),
            ("user@xn--zz.example", "user@xn--zz.example"),  # not punycode: kept as typed
            ('"john"@example.org', "john@example.org"),
            ('"John+tag"@example.org', "john@example.org"),
            ('"j\\ohn"@example.org', "john@example.org"),  # a quoted-pair is its character
            ('"s.u.zie"@gmail.com', "suzie@gmail.com"),
            ('"jöhn"@example.org', "jöhn@example.org"),  # RFC 6531: non-ASCII is atext
            ('"john doe"@example.org', '"john doe"@example.org'),
            ('"john\\ doe"@example.org', '"john doe"@example.org'),
            ('"a@b"@example.org', '"a@b"@example.org'),
            ('"a..b"@example.org', '"a..b"@example.org'),
            ('"john+x y"@example.org', '"john+x y"@example.org'),  # quoted: no +tag to drop
            ("user@[192.0.2.1]", "user@[192.0.2.1]"),  # refused by the forms, kept apart here
        ],
    )
    def test_version_2_folds_idna_and_quoting(self, given, expected):
        assert normalise_email(given, version=DEDUP_V2) == expected

    def test_quoted_specials_stay_distinct(self):
        quoted = normalise_email('"john doe"@example.org', version=DEDUP_V2)
        assert quoted != normalise_email("johndoe@example.org", version=DEDUP_V2)
        assert quoted != normalise_email('"john.doe"@example.org', version=DEDUP_V2)

    @pytest.mark.parametrize("given", ["user@bücher.example", '"john"@example.org', "user@xn--bcher-kva.example"])
    def test_version_1_is_unchanged(self, given):
        """What version 1 did before version 2 existed (no IDNA, no unquoting)."""
        expected = unicodedata.normalize("NFKC", given).casefold()
        assert normalise_email(given, version=DEDUP_V1) == expected

    def test_unknown_version_refused(self):
        with pytest.raises(ValueError, match="unknown dedup version"):
            normalise_email("suzie@example.org", version=3)


class TestDedupTag:
    @pytest.mark.parametrize("version", DEDUP_VERSIONS)
    def test_same_person_same_petition(self, version):
        petition = uuid.uuid4()
        assert dedup_tag(petition, "Suzie+a@example.org", version=version) == dedup_tag(
            petition, "suzie@example.org", version=version
        )

    def test_differs_across_petitions(self):
        one, other = uuid.uuid4(), uuid.uuid4()
        assert dedup_tag(one, "suzie@example.org", version=2) != dedup_tag(other, "suzie@example.org", version=2)

    def test_fixed_width_petition_part_keeps_concatenations_apart(self):
        one = uuid.UUID(int=1)
        twelve = uuid.UUID(int=12)
        assert dedup_tag(one, "23@x.org", version=2) != dedup_tag(twelve, "3@x.org", version=2)

    def test_versions_give_different_tags(self):
        """The label differs, so a v1 tag never answers a v2 lookup, even for a plain address."""
        petition = uuid.uuid4()
        assert dedup_tag(petition, "suzie@example.org", version=1) != dedup_tag(
            petition, "suzie@example.org", version=2
        )

    def test_idna_spellings_one_tag_in_version_2_only(self):
        petition = uuid.uuid4()
        unicode, ascii_form = "user@bücher.example", "user@xn--bcher-kva.example"
        assert dedup_tag(petition, unicode, version=2) == dedup_tag(petition, ascii_form, version=2)
        assert dedup_tag(petition, unicode, version=1) != dedup_tag(petition, ascii_form, version=1)

    @pytest.mark.parametrize(
        ("email", "expected"),
        [
            # Computed with the code from before version 2 existed: v1 petitions' stored tags.
            ("S.Uzie+x@GoogleMail.com", "7f040096dc0315a2676c7c4235652680734387aacb1d034161b04d9b83329471"),
            ("user@bücher.example", "274a8448f76df03fbd16c4139f963058a71e124529e79f1906241fbeb66f0c88"),
            ('"john"@example.org', "2dae238159b6d1281482820dbe8824a6095e7f8a43af160c371ae8d7a01e2351"),
        ],
    )
    def test_version_1_fixed_vectors(self, settings, email, expected):
        settings.KEYS = dataclasses.replace(settings.KEYS, dedup_key=FIXED_KEY)
        assert dedup_tag(FIXED_PETITION, email, version=1).hex() == expected

    def test_unknown_version_refused(self):
        with pytest.raises(ValueError, match="unknown dedup version"):
            dedup_tag(uuid.uuid4(), "suzie@example.org", version=0)


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
