"""A keyless dump taken after real use links no person to a petition (issue 10).

The world: a creator, sponsors, named, initials and counted-only signers who sign over HTTP,
deputies whose claims are validated (with a validator's note) or pending, and a creator who
abandons the wizard half-way. The dump — SQLite's, or ``pg_dump`` on PostgreSQL — is read as a
thief would: its bytes, every base64/hex/zlib value inside them, its schema's references, and
its times next to what a mail provider knows of when each mail arrived."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.test import Client
from django.utils import timezone

from tests.factories import deliver_outbox, make_petition, sign_and_confirm, signer
from tests.privacy.dumps import Schema, Table, dump_database, dump_schema, found_in_decoded, parse_timestamp
from tests.privacy.test_database_dump import secrets_of
from tests.verification.conftest import claim_and_confirm, make_validator, registry_csv, restricted_petition
from undersign.signatures.models import Display, SignatureKind
from undersign.signatures.services import SignerDetails, signatures_times_coarsen
from undersign.transparency.services import log_integrate_all
from undersign.verification.models import DecisionKind, Registry, SigningPolicy
from undersign.verification.services import claim_decide, registry_import

pytestmark = pytest.mark.django_db(transaction=True)  # pg_dump reads from another session

ACTION = "Resurface the towpath along the Quillmere canal"
NOTE = "Rang the Vostok council clerk, mandate Quillmere-7731 confirmed"
DRAFT_ACTION = "Rename Harrowgate square after Octavia Brennan-Ifeoma"
DRAFT_CREATOR = signer(name="Leopoldine Achterberg-Nwosu", email="leopoldine.an@example.net", display=Display.NAMED)

CREATOR = signer(name="Ottoline Vasquez-Pemberton", email="ottoline.vp@example.net", ip_address="198.51.100.201")
SPONSOR = signer(name="Barnabas Quennell-Adeyemi", email="barnabas.qa@example.org", ip_address="198.51.100.9")
SIGNERS = [
    signer(name="Zebedee Quirinus Marchbanks", email="zq.marchbanks@example.org", display=Display.NAMED,
           ip_address="198.51.100.73"),
    signer(name="Philippa Grunewald-Okonkwo", email="PGrunewald.Okonkwo@Example.com", display=Display.INITIALS,
           ip_address="203.0.113.158"),
    signer(name="Thaddeus Ignatius Wolstenholme", email="thaddeus+petitions@wolstenholme.example",
           display=Display.COUNTED, ip_address="2001:db8::4f1e:77a2"),
]  # fmt: skip
CLAIMANTS = [
    signer(name="Zinovia Hartmann-Oyelaran", email="zinovia.ho@example.net", ip_address="192.0.2.44"),
    signer(name="Casimir Oduya-Lindqvist", email="casimir.ol@example.net", ip_address="192.0.2.45"),
]
MEMBERS = [
    ("Ksenia Vorontsova", "Municipal deputy", "MO 42", "SPB", "", "", "spb-42"),
    ("Arkady Selivanov", "Municipal deputy", "MO 7", "SPB", "", "", "spb-7"),
]
PETITIONS = "petitions_petition"
MEMBER_TABLE = "verification_registrymember"
# A published list: joining its members to the petitions that name it singles no one out.
LISTS = {"verification_registry"}


class ProviderBackend(EmailBackend):
    """The signer's mail provider: it knows, to the second, when each mail reached an address."""

    arrivals: list[tuple[str, datetime]] = []

    def send_messages(self, messages):
        now = timezone.now()
        for message in messages:
            self.arrivals += [(address, now) for address in message.to]
        return super().send_messages(messages)


@dataclass
class World:
    dump: str
    arrivals: list[tuple[str, datetime]] = field(default_factory=list)


def _mailed_link(address: str) -> str:
    deliver_outbox()
    for message in reversed(mail.outbox):
        if address in message.to and (match := re.search(r"https?://testserver(/\S+/confirm/\S+/)", message.body)):
            return match.group(1)
    raise AssertionError(f"no confirmation link was mailed to {address}")


def _sign_over_http(petition_id: int, details: SignerDetails) -> None:
    browser = Client()
    page = browser.post(
        f"/en/petitions/{petition_id}/sign/",
        {"name": details.name, "email": details.email, "region": details.region, "display": details.display},
        REMOTE_ADDR=details.ip_address,
    )
    assert page.status_code == 302, page.content[:300]
    link = _mailed_link(details.email)
    assert browser.get(link, REMOTE_ADDR=details.ip_address).status_code == 200
    assert browser.post(link, REMOTE_ADDR=details.ip_address).status_code == 200


def _abandon_a_draft() -> None:
    """The creator writes the text and their details, then closes the tab."""
    browser = Client()
    text = {"action": DRAFT_ACTION, "background": "Octavia ran the square's market for forty years."}
    assert browser.post("/en/petitions/new/", {**text, "additional_details": ""}).status_code == 302
    creator = {"name": DRAFT_CREATOR.name, "email": DRAFT_CREATOR.email, "region": "E12000008", "display": "named"}
    assert browser.post("/en/petitions/new/creator/", creator).status_code == 302


def build_world(settings, *, claims: bool = True, draft: bool = True) -> World:
    settings.EMAIL_BACKEND = f"{ProviderBackend.__module__}.ProviderBackend"
    ProviderBackend.arrivals = []
    petition = make_petition(action=ACTION, creator=CREATOR)
    make_petition(action="Light the towpath at night")  # another petition, so a link would tell which
    sign_and_confirm(petition, SPONSOR, kind=SignatureKind.SPONSOR)
    for details in SIGNERS:
        _sign_over_http(petition.pk, details)
    if claims:
        registry = Registry.objects.create(name="Municipal deputies of St Petersburg", slug="spb-deputies")
        registry_import(registry=registry, data=registry_csv(MEMBERS), source="test")
        verified = restricted_petition(registry, policy=SigningPolicy.VERIFIED_SEPARATELY)
        ksenia, arkady = registry.members.order_by("external_id")
        validated = claim_and_confirm(verified, arkady, email=CLAIMANTS[0].email, name=CLAIMANTS[0].name)
        claim_decide(claim=validated.claim, actor=make_validator("vera", registry), kind=DecisionKind.VALIDATE,
                     note=NOTE)  # fmt: skip
        claim_and_confirm(verified, ksenia, email=CLAIMANTS[1].email, name=CLAIMANTS[1].name)  # stays pending
    if draft:
        _abandon_a_draft()
    deliver_outbox()
    log_integrate_all()
    signatures_times_coarsen()
    return World(dump=dump_database(), arrivals=list(ProviderBackend.arrivals))


@pytest.fixture(params=["sqlite", pytest.param("pg_dump", marks=pytest.mark.postgres)])
def dump_kind(request, django_db_blocker):
    from django.db import connection

    wanted = "sqlite" if request.param == "sqlite" else "postgresql"
    if connection.vendor != wanted:
        pytest.skip(f"a {request.param} dump needs the {wanted} database")
    return request.param


# --- no personal data in the bytes, decoded or not ------------------------------------------


def test_no_signer_creator_sponsor_or_claimant_data_in_the_dump_even_decoded(settings, dump_kind):
    world = build_world(settings, draft=False)
    assert ACTION.lower() in world.dump.lower() and "ksenia vorontsova" in world.dump.lower()  # it is a dump
    for details in [CREATOR, SPONSOR, *SIGNERS, *CLAIMANTS]:
        assert found_in_decoded(world.dump, secrets_of(details)) == [], f"{details.name}'s data in the dump"


def test_no_validators_decision_note_in_the_dump(settings, dump_kind):
    world = build_world(settings, draft=False)
    assert found_in_decoded(world.dump, [NOTE, "Quillmere-7731"]) == []


def test_no_abandoned_draft_in_the_dump_even_inside_the_session_table(settings, dump_kind):
    world = build_world(settings, claims=False)
    assert "django_session" in world.dump  # the draft's session row is there
    needles = [DRAFT_ACTION, "Octavia ran the square", *secrets_of(DRAFT_CREATOR)]
    needles.remove(DRAFT_CREATOR.ip_address)  # the wizard does not store it before submission
    assert found_in_decoded(world.dump, needles) == []


def test_the_decoder_finds_values_in_a_session_and_in_binary_columns():
    """The search can fail: Django's own session encoding and a zlib blob in hex are opened."""
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore().encode({"draft": {"name": DRAFT_CREATOR.name, "text": "x" * 200}})
    assert DRAFT_CREATOR.name in found_in_decoded(f"INSERT INTO s VALUES('{session}')", [DRAFT_CREATOR.name])
    import zlib

    blob = zlib.compress(DRAFT_CREATOR.email.encode() * 3).hex()
    assert found_in_decoded(f"1\t\\x{blob}", [DRAFT_CREATOR.email]) == [DRAFT_CREATOR.email]
    assert found_in_decoded("INSERT INTO s VALUES('L. A.-N.')", secrets_of(DRAFT_CREATOR)) == []


# --- no chain of references joins a registry member to a petition ---------------------------


def member_to_petition_paths(schema: Schema) -> list[list[str]]:
    """Every chain of references (followed either way, through any table but a published list)
    from the registry members' table to the petitions' table: each one is a SQL join that
    pairs a named member with a petition."""
    neighbours: dict[str, set[str]] = {name: set() for name in schema.tables}
    for (table, _column), target in schema.references.items():
        if table in LISTS or target in LISTS or target not in neighbours:
            continue
        neighbours[table].add(target)
        neighbours[target].add(table)
    paths, queue, seen = [], deque([[MEMBER_TABLE]]), {MEMBER_TABLE}
    while queue:
        path = queue.popleft()
        for step in sorted(neighbours.get(path[-1], ())):
            if step == PETITIONS:
                paths.append([*path, step])
            elif step not in seen:
                seen.add(step)
                queue.append([*path, step])
    return paths


def test_no_chain_of_references_joins_a_registry_member_to_a_petition(settings, dump_kind):
    schema = dump_schema(build_world(settings, draft=False).dump)
    assert MEMBER_TABLE in schema.tables and schema.tables[MEMBER_TABLE].rows  # the registry is dumped
    assert member_to_petition_paths(schema) == []


def test_the_walk_finds_a_join_through_a_foreign_key_or_a_bare_id_column():
    """The walk can fail: a table pairing members with petitions, by key or by bare id, is found;
    a registry shared with petitions is not."""
    tables = {name: Table(name, ["id"]) for name in (MEMBER_TABLE, PETITIONS, "verification_registry", "x_link")}
    via_registry = Schema(
        tables,
        {(MEMBER_TABLE, "registry_id"): "verification_registry", ("x_link", "registry_id"): "verification_registry",
         ("x_link", "petition_id"): PETITIONS},
    )  # fmt: skip
    assert member_to_petition_paths(via_registry) == []
    direct = Schema(tables, {("x_link", "member_id"): MEMBER_TABLE, ("x_link", "petition_id"): PETITIONS})
    assert member_to_petition_paths(direct) == [[MEMBER_TABLE, "x_link", PETITIONS]]


# --- no value joins a registry member to a petition -----------------------------------------


def tables_linked_to_petitions(schema: Schema) -> set[str]:
    """The tables whose rows name a petition: the petitions' own, and every table with a chain
    of references up to it (published lists and the members' table aside)."""
    linked = {PETITIONS}
    grew = True
    while grew:
        grew = False
        for (table, _column), target in schema.references.items():
            if target in linked and table not in linked and table not in LISTS | {MEMBER_TABLE}:
                linked.add(table)
                grew = True
    return linked


def territory_joins(schema: Schema) -> list[tuple[str, str, str]]:
    """(table, column, value) wherever a row linked to a petition holds a member's territory
    code: a value join that, for a territory of one or few members, names who signed."""
    codes = {row["territory_code"] for row in schema.tables[MEMBER_TABLE].rows} - {None, ""}
    return sorted(
        (name, column, value)
        for name in tables_linked_to_petitions(schema)
        if name in schema.tables
        for row in schema.tables[name].rows
        for column, value in row.items()
        if value in codes
    )


def test_no_column_linked_to_a_petition_holds_a_members_territory_code(settings, dump_kind):
    schema = dump_schema(build_world(settings, draft=False).dump)
    assert any(row["territory_code"] == "SPB" for row in schema.tables[MEMBER_TABLE].rows)
    assert territory_joins(schema) == []


def test_the_value_join_finds_a_territory_code_beside_a_petition():
    members = Table(MEMBER_TABLE, ["id", "territory_code"], rows=[{"id": "1", "territory_code": "SPB"}])
    counts = Table("x_count", ["id", "petition_id", "code"], rows=[{"id": "1", "petition_id": "1", "code": "SPB"}])
    tables = {MEMBER_TABLE: members, PETITIONS: Table(PETITIONS, ["id"], rows=[{"id": "1"}]), "x_count": counts}
    schema = Schema(tables, {("x_count", "petition_id"): PETITIONS})
    assert territory_joins(schema) == [("x_count", "code", "SPB")]


# --- a dump beside a mail provider's delivery times -----------------------------------------

SIGNATURES = "signatures_signature"
COUNTED = {"confirmed", "invalidated"}
NEAR = timedelta(minutes=2)


def _path_to_signatures(schema: Schema, table: str) -> list[tuple[str, str]] | None:
    """The references from ``table`` up to the signatures' table, as (table, column) steps."""
    queue: deque[tuple[str, list[tuple[str, str]]]] = deque([(table, [])])
    seen = {table}
    while queue:
        current, path = queue.popleft()
        if current == SIGNATURES:
            return path
        for (source, column), target in schema.references.items():
            if source == current and target not in seen:
                seen.add(target)
                queue.append((target, [*path, (source, column)]))
    return None


def exact_times_beside_counted_signatures(schema: Schema, arrivals: list[tuple[str, datetime]]) -> list[str]:
    """(table.column) of every time, finer than a day and within minutes of a mail's arrival,
    in a row that leads to a counted signature — and so, through it, to a petition."""
    by_id = {name: {row.get("id"): row for row in t.rows} for name, t in schema.tables.items()}
    counted = {row["id"] for row in schema.tables[SIGNATURES].rows if row["status"] in COUNTED}
    times = [at for _, at in arrivals]
    leaks = set()
    for name, table in schema.tables.items():
        path = _path_to_signatures(schema, name)
        if path is None:
            continue
        for row in table.rows:
            current: dict | None = row
            for step_table, column in path:
                target = schema.references[(step_table, column)]
                current = by_id[target].get(current.get(column)) if current else None
            if current is None or current["id"] not in counted:
                continue
            for column, value in row.items():
                at = parse_timestamp(value)
                if at is None or at == at.replace(hour=0, minute=0, second=0, microsecond=0):
                    continue
                if any(abs(at - arrival) <= NEAR for arrival in times):
                    leaks.add(f"{name}.{column}")
    return sorted(leaks)


def test_mail_arrival_times_match_no_counted_signature_in_the_dump(settings, dump_kind):
    world = build_world(settings, claims=False, draft=False)
    addresses = {address for address, _ in world.arrivals}
    assert {details.email for details in [CREATOR, SPONSOR, *SIGNERS]} <= addresses  # the provider saw them
    assert exact_times_beside_counted_signatures(dump_schema(world.dump), world.arrivals) == []


def test_mail_arrival_times_match_no_claim_in_the_dump(settings, dump_kind):
    world = build_world(settings, draft=False)
    assert exact_times_beside_counted_signatures(dump_schema(world.dump), world.arrivals) == []


def test_the_time_match_finds_an_exact_time_beside_a_counted_signature():
    """The match can fail: an exact time two tables away from a counted signature is found."""
    now = timezone.now().replace(hour=12)
    tables = {
        SIGNATURES: Table(SIGNATURES, ["id", "status"], rows=[{"id": "1", "status": "confirmed"}]),
        "a": Table("a", ["id", "signature_id"], rows=[{"id": "5", "signature_id": "1"}]),
        "b": Table("b", ["id", "a_id", "at"], rows=[{"id": "9", "a_id": "5", "at": now.strftime("%Y-%m-%d %H:%M:%S")}]),
    }
    schema = Schema(tables, {("a", "signature_id"): SIGNATURES, ("b", "a_id"): "a"})
    assert exact_times_beside_counted_signatures(schema, [("x@example.org", now)]) == ["b.at"]
    tables["b"].rows[0]["at"] = now.strftime("%Y-%m-%d 00:00:00")
    assert exact_times_beside_counted_signatures(schema, [("x@example.org", now)]) == []
