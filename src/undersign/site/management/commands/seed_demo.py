"""Demo data for trying the site: accounts and petitions in every state. Idempotent: accounts
and petitions that exist (by username, by action text) are left alone, so running it at every
`make run` changes nothing after the first time."""

from __future__ import annotations

import itertools
import re
import secrets
from datetime import timedelta

from django.contrib.auth.models import Group, User
from django.core import mail
from django.core.management.base import BaseCommand
from django.test.utils import override_settings

from undersign.core.outbox import outbox_sweep
from undersign.core.reference import region_names, regions
from undersign.counting.services import breakdown_snapshots_take_due
from undersign.moderation.services import (
    petition_approve,
    petition_flag,
    petition_reject,
    petition_response_publish,
)
from undersign.petitions.models import REJECTED_STATES, Petition, PetitionState
from undersign.petitions.services import PetitionText, petition_close, petition_create
from undersign.signatures.models import Display, SignatureKind
from undersign.signatures.services import SignerDetails, signature_confirm, signature_create
from undersign.transparency.services import log_integrate_all
from undersign.verification.models import Claim, DecisionKind, SigningPolicy
from undersign.verification.services import (
    ClaimRequest,
    claim_decide,
    petition_verification_set,
    registry_ensure,
    registry_import,
    registry_validator_add,
    signature_create_with_claim,
)

S = PetitionState
VERIFIED_DEMO_ACTION = "Publish the city budget as open data before the council votes on it"
VERIFIED_DEMO_BACKGROUND = "A petition of municipal deputies: only deputies on the registry may sign it."
# The founding case: a petition written and signed in Russian by municipal deputies of four
# cities, with 30+ verified and 84 awaiting validation. A neutral municipal subject; fictional names.
RUSSIAN_DEMO_ACTION = "Продлить работу городских публичных библиотек по будням до 22:00"
RUSSIAN_DEMO_BACKGROUND = (
    "Обращение муниципальных депутатов Москвы, Санкт-Петербурга, Самары и Якутска; подписать его "
    "могут только депутаты из реестра. Городские библиотеки закрываются в 19:00, когда многие жители "
    "только возвращаются с работы, а читальный зал для многих школьников и студентов — единственное "
    "тихое место для занятий. Просим продлить работу библиотек по будням до 22:00."
)
RUSSIAN_DEMO_CITIES = ("MOSCOW", "SAINT-PETERSBURG", "SAMARA", "YAKUTSK")
# The federal subject of each city, for the signer's region when the site lists Russia's subjects.
RUSSIAN_DEMO_SUBJECTS = {"MOSCOW": "RU-MOW", "SAINT-PETERSBURG": "RU-SPE", "SAMARA": "RU-SAM", "YAKUTSK": "RU-SA"}
RUSSIAN_DEMO_VERIFIED_PER_CITY = 8  # 32 verified
RUSSIAN_DEMO_PENDING_PER_CITY = 21  # 84 awaiting validation
FIRST_RU = (
    ("Алексей", "Дмитрий", "Иван", "Михаил", "Сергей", "Андрей", "Николай", "Павел"),
    ("Анна", "Мария", "Елена", "Ольга", "Ксения", "Татьяна", "Наталья", "Ирина"),
)
LAST_RU = [
    ("Соколов", "Соколова"),
    ("Лебедев", "Лебедева"),
    ("Новиков", "Новикова"),
    ("Морозов", "Морозова"),
    ("Волков", "Волкова"),
    ("Зайцев", "Зайцева"),
    ("Павлов", "Павлова"),
    ("Семёнов", "Семёнова"),
    ("Голубев", "Голубева"),
    ("Виноградов", "Виноградова"),
    ("Богданов", "Богданова"),
    ("Воробьёв", "Воробьёва"),
    ("Фёдоров", "Фёдорова"),
    ("Михайлов", "Михайлова"),
    ("Беляев", "Беляева"),
]
CONFIRM_LINK = re.compile(r"/signatures/confirm/([\w-]+)/")
FIRST = ["Alex", "Sam", "Priya", "Tomasz", "Aisha", "Jon", "Mei", "Oluwaseun", "Freya", "Luca", "Nadia", "Owen"]
LAST = ["Rivers", "Okafor", "Kowalski", "Nguyen", "Campbell", "Hughes", "Patel", "Moreau", "Evans", "Larsen"]

# action, background, final state, confirmed signatures (creator and sponsors included)
DEMO = [
    (
        "Fund free swimming lessons for every primary school child",
        "Too many children leave primary school unable to swim. Lessons save lives.",
        S.OPEN,
        60,
    ),
    (
        "Keep public libraries open on Sundays",
        "Libraries are the only free warm space many families have at weekends.",
        S.OPEN,
        24,
    ),
    (
        "Plant a street tree for every new home built",
        "Trees cool streets in heatwaves, soak up rain and clean the air.",
        S.OPEN,
        9,
    ),
    (
        "Publish every council contract over 10,000 pounds online",
        "Residents should see how public money is spent.",
        S.CLOSED,
        15,
    ),
    ("Ban all cars from every city on Earth tomorrow", "Cars are bad.", S.REJECTED, 6),
    ("Name and shame my neighbour for his hedge", "He will not cut it.", S.HIDDEN, 6),
    (
        "Build a safe cycle route between the two hospitals",
        "Staff who cycle between sites ride on a dual carriageway.",
        S.SPONSORED,
        6,
    ),
    ("Add a pedestrian crossing outside the market hall", "Shoppers cross four lanes of traffic.", S.FLAGGED, 6),
    (
        "Light the towpath along the canal after dark",
        "The towpath is a commuting route and unlit in winter.",
        S.VALIDATED,
        3,
    ),
    ("Restore the night bus to the airport", "Early-shift workers have no way to get to work.", S.PENDING, 0),
]


class Command(BaseCommand):
    help = "Create demo accounts (credentials printed once) and demo petitions in every state."

    def handle(self, *args, **options):
        self._account("admin", superuser=True)
        moderator = self._account("moderator", superuser=False)
        names = itertools.cycle(f"{first} {last}" for last in LAST for first in FIRST)
        codes = itertools.cycle([r.code for r in regions()][:6])
        created = 0
        # Demo signers' confirmation e-mails are kept in memory, not written to the mail folder.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            mail.outbox = []
            for action, background, state, confirmed in DEMO:
                if Petition.objects.filter(action=action).exists():
                    continue
                self._petition(action, background, state, confirmed, names, codes, moderator)
                created += 1
            self._verified_signatories_demo(moderator, names, codes)
            self._russian_deputies_demo(moderator, codes)
        log_integrate_all()
        breakdown_snapshots_take_due()  # the figures by region of those with enough counted-only signers
        log_integrate_all()  # the verification decisions those snapshots released
        self.stdout.write(f"demo petitions: {created} created, {len(DEMO) - created} already there")

    def _account(self, username: str, *, superuser: bool) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            password = secrets.token_urlsafe(12)
            if superuser:
                user = User.objects.create_superuser(username, f"{username}@undersign.localhost", password)
            else:
                user = User.objects.create_user(username, f"{username}@undersign.localhost", password, is_staff=True)
            self.stdout.write(self.style.SUCCESS(f"created {username!r} with password {password!r} (shown once)"))
        else:
            self.stdout.write(f"account {username!r} already exists")
        group, _ = Group.objects.get_or_create(name="moderators")
        user.groups.add(group)
        return user

    def _sign(self, petition: Petition, name: str, region: str, kind: str, display: str, *, confirm: bool) -> None:
        email = f"{name.lower().replace(' ', '.')}.{secrets.token_hex(3)}@example.org"
        signature_create(
            petition=petition,
            kind=kind,
            details=SignerDetails(name=name, email=email, region=region, display=display, notify_updates=True),
        )
        if confirm:
            self._confirm(email)

    def _confirm(self, email: str) -> None:
        outbox_sweep(older_than=timedelta(0))  # whatever on-commit delivery did not send yet
        for message in reversed(mail.outbox):
            if email in message.to and (match := CONFIRM_LINK.search(str(message.body))):
                signature_confirm(token=match.group(1))
                return
        raise RuntimeError("the demo signature's confirmation e-mail was not sent")

    def _petition(self, action, background, state, confirmed, names, codes, moderator, language="en") -> None:
        text = PetitionText(action=action, background=background, additional_details="", language=language)
        petition = petition_create(text=text)
        self._sign(petition, next(names), next(codes), SignatureKind.CREATOR, Display.NAMED, confirm=state != S.PENDING)
        if state == S.PENDING:
            return
        displays = itertools.cycle([Display.COUNTED, Display.COUNTED, Display.NAMED, Display.INITIALS])
        sponsors = min(confirmed - 1, 5)
        for _ in range(sponsors):
            self._sign(petition, next(names), next(codes), SignatureKind.SPONSOR, next(displays), confirm=True)
        petition.refresh_from_db()
        if state in (S.VALIDATED, S.SPONSORED):
            return
        if state == S.FLAGGED:
            petition_flag(petition=petition, actor=moderator, note="Check whether the council owns this road.")
            return
        if state in REJECTED_STATES:
            code = "offensive" if state == S.HIDDEN else "no-action"
            petition_reject(petition=petition, actor=moderator, reason_code=code)
            return
        petition_approve(petition=petition, actor=moderator)
        for _ in range(confirmed - 1 - sponsors):
            self._sign(petition, next(names), next(codes), SignatureKind.SIGNER, next(displays), confirm=True)
        # Some signatures stay pending, as in real life.
        self._sign(petition, next(names), next(codes), SignatureKind.SIGNER, Display.COUNTED, confirm=False)
        if state == S.CLOSED:
            log_integrate_all()
            petition.refresh_from_db()
            petition_response_publish(
                petition=petition,
                actor=moderator,
                summary="The council will publish its contracts from April.",
                details="Thank you for your petition. From April every contract over 10,000 pounds "
                "will be listed online.",
            )
            petition_close(petition=petition)

    def _verified_signatories_demo(self, moderator, names, codes) -> None:
        """A registry of deputies in three cities (the moderator validates it) and a petition only
        they may sign: some claims validated by official e-mail, two by the moderator, some
        deputies counted only, and the rest awaiting a validator — so the page shows verified and
        awaiting validation apart, and only the verified count toward the quorum."""
        if Petition.objects.filter(action=VERIFIED_DEMO_ACTION).exists():
            return
        registry = registry_ensure(
            slug="demo-deputies", name="Municipal deputies (demo)", official_domain="council.example"
        )
        if not registry.members.exists():
            rows = ["name,office,district,territory_code,official_email,official_email_domain,external_id"]
            for n, (first, last) in enumerate(itertools.product(FIRST[:6], LAST[:3]), start=1):
                city = ("NORTH", "SOUTH", "EAST")[n % 3]
                email = f"deputy{n}@{city.lower()}.council.example"
                rows.append(f"{first} {last},Municipal deputy,Ward {n},{city},{email},,demo-{n}")
            registry_import(registry=registry, data="\n".join(rows).encode(), source="seed_demo")
        registry_validator_add(registry=registry, user=moderator)
        self._petition(VERIFIED_DEMO_ACTION, VERIFIED_DEMO_BACKGROUND, S.OPEN, 6, names, codes, moderator)
        petition = Petition.objects.get(action=VERIFIED_DEMO_ACTION)
        petition_verification_set(
            petition=petition,
            policy=SigningPolicy.REGISTRY_ONLY,
            registries=[registry],
            quorum_verified=10,
            quorum_territories=3,
        )
        validate_by_hand = []
        for n, member in enumerate(registry.members.order_by("pk")[:15]):
            official = n % 3 == 0  # a third confirm at their official address: validated by it
            number = member.external_id.removeprefix("demo-")
            email = (
                f"deputy{number}@{member.territory_code.lower()}.council.example"
                if official
                else f"{member.name.lower().replace(' ', '.')}.{secrets.token_hex(3)}@example.org"
            )
            display = Display.COUNTED if n % 4 == 1 else Display.NAMED  # some verified, not named
            details = SignerDetails(
                name=member.name, email=email, region=next(codes), display=display, notify_updates=False
            )
            _, signature_id = signature_create_with_claim(
                petition=petition, details=details, claim=ClaimRequest(member=member)
            )
            self._confirm(email)
            if n in (1, 2):
                validate_by_hand.append(signature_id)
        for claim in Claim.objects.filter(signature_id__in=validate_by_hand).select_related("signature"):
            claim_decide(claim=claim, actor=moderator, kind=DecisionKind.VALIDATE, note="Checked with the council.")

    def _russian_deputies_demo(self, moderator, codes) -> None:
        """The founding case, in Russian: a registry of municipal deputies in Moscow, St
        Petersburg, Samara and Yakutsk, counted per city (``ru-cities``), and a petition only
        they may sign, with 32 deputies verified (confirmed at their official address) and 84
        awaiting a validator (the moderator validates the registry)."""
        if Petition.objects.filter(action=RUSSIAN_DEMO_ACTION).exists():
            return
        registry = registry_ensure(
            slug="demo-deputies-ru",
            name="Муниципальные депутаты (демо)",
            official_domain="mo.example",
            territory_set="ru-cities",
        )
        people = (f"{first} {last[gender]}" for last in LAST_RU for gender in (0, 1) for first in FIRST_RU[gender])
        per_city = RUSSIAN_DEMO_VERIFIED_PER_CITY + RUSSIAN_DEMO_PENDING_PER_CITY
        if not registry.members.exists():
            rows = ["name,office,district,territory_code,official_email,official_email_domain,external_id"]
            for city in RUSSIAN_DEMO_CITIES:
                for n in range(1, per_city + 1):
                    email = f"deputat{n}@{city.lower()}.mo.example"
                    rows.append(f"{next(people)},Муниципальный депутат,Округ № {n},{city},{email},,{city.lower()}-{n}")
            registry_import(registry=registry, data="\n".join(rows).encode(), source="seed_demo")
        registry_validator_add(registry=registry, user=moderator)
        site_codes = set(region_names())
        self._petition(RUSSIAN_DEMO_ACTION, RUSSIAN_DEMO_BACKGROUND, S.OPEN, 6, people, codes, moderator, language="ru")
        petition = Petition.objects.get(action=RUSSIAN_DEMO_ACTION)
        petition_verification_set(
            petition=petition,
            policy=SigningPolicy.REGISTRY_ONLY,
            registries=[registry],
            quorum_verified=30,
            quorum_territories=4,
        )
        displays = itertools.cycle([Display.NAMED, Display.COUNTED, Display.COUNTED])
        for member in registry.members.order_by("pk"):
            city, number = member.territory_code, int(member.external_id.rsplit("-", 1)[1])
            verified = number <= RUSSIAN_DEMO_VERIFIED_PER_CITY  # confirms at the official address on record
            email = (
                f"deputat{number}@{city.lower()}.mo.example"
                if verified
                else f"deputat.{city.lower()}.{number}.{secrets.token_hex(3)}@example.org"
            )
            subject = RUSSIAN_DEMO_SUBJECTS[city]
            details = SignerDetails(
                name=member.name,
                email=email,
                region=subject if subject in site_codes else next(codes),
                display=next(displays),
                notify_updates=False,
                language="ru",  # the deputies signed on the Russian pages: later mails in Russian
            )
            signature_create_with_claim(petition=petition, details=details, claim=ClaimRequest(member=member))
            self._confirm(email)
