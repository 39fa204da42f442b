"""Rotation of the PII master keys: every live data key re-wrapped under the active one, so that
the old one can be removed and everything still opens; what the site records of each key."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from tests.factories import make_petition, sign_and_confirm, signer, wait_until_another_session_waits_for_a_lock
from tests.verification.conftest import claim_and_confirm, make_registry, make_validator, restricted_petition
from undersign.core.crypto import DecryptionError, data_keys, open_sealed, seal
from undersign.core.models import DataKey, MasterKey
from undersign.core.rotation import MasterKeyReplaced, data_keys_rewrap, master_keys_record, rotation_status
from undersign.petitions.models import Petition
from undersign.retention.models import RetentionRun
from undersign.retention.services import retention_job_run, retention_jobs
from undersign.signatures.models import Display, Signature
from undersign.signatures.personal_data import signer_email, signer_ip, signer_name
from undersign.verification.evidence import decision_note_open, evidence_document_open, evidence_note_open
from undersign.verification.member_ref import member_ref_open
from undersign.verification.models import ClaimDecision, DecisionKind
from undersign.verification.services import claim_decide

pytestmark = pytest.mark.django_db

MASTER = {name: secrets.token_bytes(32) for name in ("k1", "k2", "k3")}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
REWRAP_JOB = "re-wrap data keys under the active master key"


def configure(django_settings, *key_ids: str, **other: bytes) -> None:
    """UNDERSIGN_PII_KEYS as ``key_ids`` (the first active), and forget every unwrapped data key,
    as a process started with that environment would have none."""
    keys = {kid: other.get(kid, MASTER[kid]) for kid in key_ids}
    django_settings.KEYS = replace(settings.KEYS, pii_keys=keys, pii_active_key_id=key_ids[0])
    for key_id in DataKey.objects.values_list("key_id", flat=True):
        data_keys.forget(key_id)


@dataclass
class Sealed:
    """Everything personal that the journeys seal, with what it must open to."""

    signatures: dict[int, tuple[str, str, str]]  # id -> (name, e-mail, IP)
    claim_signature: Signature
    member_id: int
    shredded: Petition  # its data key destroyed


def seal_everything() -> Sealed:
    registry = make_registry()
    member = registry.members.order_by("pk").first()
    petition = restricted_petition(registry)
    people = [signer(name="Zoë Named", display=Display.NAMED, ip_address="198.51.100.7"), signer(name="Ann Private")]
    signatures = {}
    for person in people:
        signature = sign_and_confirm(petition, person)
        signatures[signature.pk] = (person.name, person.email, person.ip_address)
    claimed = claim_and_confirm(
        petition, member, note="I am the deputy for district 1.", document=PNG, content_type="image/png"
    )
    claim_decide(claim=claimed.claim, actor=make_validator("vera", registry), kind=DecisionKind.VALIDATE, note="OK")
    shredded = make_petition(action="Already shredded", creator=signer())
    sign_and_confirm(shredded, signer(name="Gone Forever"))
    DataKey.objects.filter(key_id=shredded.data_key_id).update(wrapped_key=None, destroyed_at=timezone.now())
    return Sealed(signatures, claimed, member.pk, shredded)


def assert_everything_opens(sealed: Sealed) -> None:
    for signature in Signature.objects.filter(pk__in=sealed.signatures):
        name, email, ip = sealed.signatures[signature.pk]
        assert (signer_name(signature), signer_email(signature), signer_ip(signature)) == (name, email, ip)
    signature = Signature.objects.select_related("claim").get(pk=sealed.claim_signature.pk)
    claim, tag = signature.claim, bytes(signature.dedup_tag)
    assert member_ref_open(claim, tag).member_id == sealed.member_id
    assert evidence_note_open(claim, tag) == "I am the deputy for district 1."
    assert evidence_document_open(claim, tag) == PNG
    assert decision_note_open(ClaimDecision.objects.get(claim=claim), tag) == "OK"


def assert_shredded(sealed: Sealed) -> None:
    row = DataKey.objects.get(key_id=sealed.shredded.data_key_id)
    assert row.destroyed_at is not None and row.wrapped_key is None
    for signature in Signature.objects.filter(petition=sealed.shredded):
        with pytest.raises(DecryptionError, match="destroyed"):
            signer_name(signature)


class TestRotationCompletes:
    def test_rotation_then_removal_of_the_old_key_keeps_everything_readable(self, settings):
        configure(settings, "k1")
        sealed = seal_everything()
        assert set(DataKey.objects.filter(destroyed_at__isnull=True).values_list("master_key_id", flat=True)) == {"k1"}

        configure(settings, "k2", "k1")  # the new key first, the old one still listed
        report = data_keys_rewrap()
        live = DataKey.objects.filter(destroyed_at__isnull=True)
        assert report.moved == live.count() > 0
        assert set(live.values_list("master_key_id", flat=True)) == {"k2"}
        assert not report.remaining and not report.missing

        configure(settings, "k2")  # the old key removed from the environment
        assert_everything_opens(sealed)
        assert_shredded(sealed)
        # And new data is sealed and opened as ever.
        sign_and_confirm(Petition.objects.get(pk=sealed.claim_signature.petition_id), signer(name="After Rotation"))

    def test_without_the_re_wrap_removing_the_old_key_loses_the_data(self, settings):
        """What the re-wrap prevents: the same removal without it leaves nothing readable."""
        configure(settings, "k1")
        sealed = seal_everything()
        configure(settings, "k2")
        signature = Signature.objects.get(pk=next(iter(sealed.signatures)))
        with pytest.raises(DecryptionError, match="not configured"):
            signer_name(signature)

    def test_a_destroyed_key_stays_destroyed_and_keeps_its_master_key_id(self, settings):
        configure(settings, "k1")
        sealed = seal_everything()
        configure(settings, "k2", "k1")
        data_keys_rewrap()
        row = DataKey.objects.get(key_id=sealed.shredded.data_key_id)
        assert (row.master_key_id, row.wrapped_key) == ("k1", None)
        assert_shredded(sealed)

    def test_a_second_run_changes_nothing(self, settings):
        configure(settings, "k1")
        make_petition()
        configure(settings, "k2", "k1")
        assert data_keys_rewrap().moved == 1
        before = list(DataKey.objects.values_list("key_id", "master_key_id", "wrapped_key"))
        again = data_keys_rewrap()
        assert again.moved == 0 and not again.remaining
        assert list(DataKey.objects.values_list("key_id", "master_key_id", "wrapped_key")) == before

    def test_keys_move_in_bounded_batches_from_every_older_key(self, settings):
        configure(settings, "k1")
        first = [make_petition(creator=signer()) for _ in range(3)]
        configure(settings, "k2", "k1")
        second = [make_petition(creator=signer()) for _ in range(2)]
        configure(settings, "k3", "k2", "k1")
        report = data_keys_rewrap(batch_size=2)
        assert dict(report.rewrapped) == {"k1": len(first), "k2": len(second)}
        configure(settings, "k3")
        for petition in first + second:
            assert open_sealed(seal(petition.data_key_id, "x", context=b"c"), context=b"c") == "x"


class TestWhatIsNeverDestroyed:
    def test_a_key_under_an_unconfigured_master_is_reported_and_left_as_it_is(self, settings):
        configure(settings, "k1")
        petition = make_petition()
        before = bytes(DataKey.objects.get(key_id=petition.data_key_id).wrapped_key)
        configure(settings, "k3", "k2")  # k1 lost
        report = data_keys_rewrap()
        assert report.moved == 0
        assert report.missing == {"k1": 1}
        row = DataKey.objects.get(key_id=petition.data_key_id)
        assert (row.master_key_id, bytes(row.wrapped_key), row.destroyed_at) == ("k1", before, None)
        configure(settings, "k3", "k1")  # found again: now it moves
        assert data_keys_rewrap().moved == 1
        configure(settings, "k3")
        assert signer_name(Signature.objects.get(petition=petition))

    def test_a_key_that_does_not_open_under_its_master_is_reported_and_left(self, settings):
        configure(settings, "k1")
        petition = make_petition()
        before = bytes(DataKey.objects.get(key_id=petition.data_key_id).wrapped_key)
        configure(settings, "k2", "k1", k1=secrets.token_bytes(32))  # the wrong bytes under the right id
        report = data_keys_rewrap()
        assert (report.moved, dict(report.unopenable), dict(report.remaining)) == (0, {"k1": 1}, {"k1": 1})
        row = DataKey.objects.get(key_id=petition.data_key_id)
        assert (row.master_key_id, bytes(row.wrapped_key), row.destroyed_at) == ("k1", before, None)


class TestMasterKeyRecord:
    def test_first_seen_active_dated_by_its_oldest_data_key_or_now(self, settings):
        configure(settings, "k1")
        petition = make_petition()
        created = DataKey.objects.get(key_id=petition.data_key_id).created_at
        configure(settings, "k2", "k1")
        now = timezone.now() + timedelta(days=3)
        data_keys_rewrap(now=now)
        records = {row.key_id: row for row in MasterKey.objects.all()}
        assert records["k1"].first_active_at == created  # a site older than the record
        assert records["k2"].first_active_at == now  # put first just now
        assert records["k1"].retired_at == now and records["k2"].retired_at is None

    def test_a_later_run_keeps_the_first_time(self, settings):
        configure(settings, "k1")
        start = timezone.now()
        master_keys_record(now=start)
        master_keys_record(now=start + timedelta(days=40))
        assert MasterKey.objects.get(key_id="k1").first_active_at == start

    def test_a_host_left_with_the_old_key_first_moves_nothing_back(self, settings):
        """A worker that missed the rotation's restart still has k1 first. Were it to re-wrap,
        every data key would go back under k1, which the other hosts no longer hold once it is
        removed: the whole site's personal data unreadable, and lost once k1 is destroyed."""
        configure(settings, "k1")
        sealed = seal_everything()
        configure(settings, "k2", "k1")
        data_keys_rewrap()
        retired = MasterKey.objects.get(key_id="k1").retired_at
        assert retired is not None
        configure(settings, "k1", "k2")  # the stale host
        with pytest.raises(MasterKeyReplaced, match="replaced by 'k2'"):
            data_keys_rewrap()
        run = retention_job_run(job=REWRAP_JOB, work=retention_jobs()[REWRAP_JOB], reraise=False)
        assert (run.error, run.items) == ("MasterKeyReplaced", 0)
        assert set(DataKey.objects.filter(destroyed_at__isnull=True).values_list("master_key_id", flat=True)) == {"k2"}
        assert MasterKey.objects.get(key_id="k1").retired_at == retired
        assert rotation_status().replaced_by == "k2"
        configure(settings, "k2")  # every other host
        assert_everything_opens(sealed)

    def test_a_host_left_with_the_old_key_first_never_retires_the_new_one(self, settings):
        configure(settings, "k1")
        make_petition()
        configure(settings, "k2", "k1")
        master_keys_record(now=timezone.now())  # k2 seen active, no data key under it yet
        configure(settings, "k1", "k2")  # the stale host
        with pytest.raises(MasterKeyReplaced):
            data_keys_rewrap(now=timezone.now() + timedelta(minutes=1))
        assert MasterKey.objects.get(key_id="k2").retired_at is None


class TestRotationStatus:
    def test_due_then_overdue_after_the_rotation_days(self, settings):
        configure(settings, "k1")
        settings.MASTER_KEY_ROTATION_DAYS = 90
        start = timezone.now()
        master_keys_record(now=start)
        status = rotation_status(now=start + timedelta(days=89))
        assert (status.active_since, status.due_at, status.overdue) == (start, start + timedelta(days=90), False)
        assert rotation_status(now=start + timedelta(days=90)).overdue

    def test_not_due_before_the_key_is_recorded(self, settings):
        configure(settings, "k1")
        status = rotation_status(now=timezone.now() + timedelta(days=1000))
        assert (status.active_since, status.due_at, status.overdue) == (None, None, False)

    def test_what_each_master_key_still_holds(self, settings):
        configure(settings, "k1")
        make_petition()
        configure(settings, "k2", "k1")
        make_petition(creator=signer())
        master_keys_record(now=timezone.now())
        configure(settings, "k2", "k1", "k3")
        status = rotation_status()
        assert status.live_data_keys == {"k1": 1, "k2": 1}
        assert status.still_needed == {"k1": 1}
        assert (status.removable, status.unused, status.missing) == ([], ["k3"], {})
        data_keys_rewrap()
        status = rotation_status()
        assert (status.still_needed, status.removable, status.unused) == ({}, ["k1"], ["k3"])


class TestTheHourlyJob:
    def test_it_is_a_retention_job_that_leaves_a_run_row(self, settings):
        configure(settings, "k1")
        make_petition()
        configure(settings, "k2", "k1")
        run = retention_job_run(job=REWRAP_JOB, work=retention_jobs()[REWRAP_JOB])
        assert run.items == 1 and not run.error
        assert RetentionRun.objects.filter(job=REWRAP_JOB).count() == 1
        assert set(DataKey.objects.values_list("master_key_id", flat=True)) == {"k2"}

    def test_it_warns_about_keys_under_unconfigured_masters(self, settings, caplog):
        configure(settings, "k1")
        make_petition()
        configure(settings, "k2")
        assert retention_jobs()[REWRAP_JOB](timezone.now()) == 0
        assert "wrapped under master key k1, which is not configured" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_key_destroyed_while_the_re_wrap_waits_for_its_row_stays_destroyed(settings, postgres_only):
    """The re-wrap locks the rows it moves; a destruction that holds the row first wins, and
    the re-wrap, once let through, leaves the destroyed row alone."""
    configure(settings, "k1")
    petition = make_petition()
    configure(settings, "k2", "k1")
    destroying = threading.Event()
    release = threading.Event()

    def destroy() -> None:
        try:
            with transaction.atomic():
                DataKey.objects.select_for_update().filter(key_id=petition.data_key_id).update(
                    wrapped_key=None, destroyed_at=timezone.now()
                )
                destroying.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=destroy)
    holder.start()
    assert destroying.wait(30)
    reports = []
    rewrapper = threading.Thread(target=lambda: (reports.append(data_keys_rewrap()), connections.close_all()))
    rewrapper.start()
    wait_until_another_session_waits_for_a_lock()
    release.set()
    holder.join(30)
    rewrapper.join(30)
    row = DataKey.objects.get(key_id=petition.data_key_id)
    assert (row.master_key_id, row.wrapped_key) == ("k1", None) and row.destroyed_at is not None
    assert reports[0].moved == 0
