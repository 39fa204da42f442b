import uuid

import pytest

from tests.factories import make_petition, signer
from undersign.core.crypto import (
    DecryptionError,
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
