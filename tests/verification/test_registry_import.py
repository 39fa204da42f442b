"""CSV import: a good file, re-imports, and every way a file is refused without a trace."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from tests.verification.conftest import HEADER, registry_csv
from undersign.verification.models import Registry, RegistryImport, RegistryMember
from undersign.verification.registry_import import ImportRefused, parse_registry_csv
from undersign.verification.services import official_email_tag, registry_import

pytestmark = pytest.mark.django_db

ROWS = [
    ("Anna Petrova", "Municipal deputy", "District 1", "SPB", "anna@mo1.spb.example", "", "a1"),
    ("Boris Ivanov", "Municipal deputy", "District 2", "SPB", "", "mo2.spb.example", "b2"),
    ("Clara Smirnova", "Head of council", "", "SPB", "", "", "c3"),
]


@pytest.fixture
def empty_registry():
    return Registry.objects.create(name="Deputies", slug="deputies")


class TestAGoodFile:
    def test_adds_every_member_and_records_the_import(self, empty_registry):
        result = registry_import(registry=empty_registry, data=registry_csv(ROWS), source="test")
        assert (result.added, result.changed, result.removed) == (3, 0, 0)
        anna = RegistryMember.objects.get(registry=empty_registry, external_id="a1")
        assert anna.name == "Anna Petrova" and anna.territory_code == "SPB"
        assert bytes(anna.official_email_tag) == official_email_tag(empty_registry.pk, "Anna@MO1.spb.example")
        assert anna.official_email_domain == "mo1.spb.example"  # taken from the address
        assert RegistryMember.objects.get(external_id="c3").official_email_tag is None
        assert RegistryImport.objects.filter(registry=empty_registry).count() == 1

    def test_a_byte_order_mark_and_header_spelling_are_accepted(self, empty_registry):
        data = "\ufeffName,Office,District,Territory code,External-ID\nAnna,Deputy,,SPB,x1\n".encode()
        assert registry_import(registry=empty_registry, data=data, source="test").added == 1

    def test_a_reimport_updates_by_external_id_and_deactivates_the_missing(self, empty_registry):
        registry_import(registry=empty_registry, data=registry_csv(ROWS), source="first")
        changed = [("Anna Petrova-Orlova", *ROWS[0][1:]), ROWS[1], ("Dmitri New", "Deputy", "", "LEN", "", "", "d4")]
        result = registry_import(registry=empty_registry, data=registry_csv(changed), source="second")
        assert (result.added, result.changed, result.removed) == (1, 1, 1)
        assert RegistryMember.objects.get(external_id="a1").name == "Anna Petrova-Orlova"
        assert RegistryMember.objects.get(external_id="c3").active is False  # kept: claims may point at it
        again = registry_import(registry=empty_registry, data=registry_csv(ROWS), source="third")
        assert (again.added, again.changed, again.removed) == (0, 2, 1)  # c3 back, a1 renamed back, d4 gone


class TestABadFileIsRefusedWhole:
    def refused(self, registry, data: bytes) -> list[str]:
        with pytest.raises(ImportRefused) as caught:
            registry_import(registry=registry, data=data, source="test")
        assert not RegistryMember.objects.filter(registry=registry).exists()
        assert not RegistryImport.objects.exists()
        return caught.value.errors

    def test_wrong_encoding(self, empty_registry):
        data = (HEADER + "Anna Petrova,Депутат,,SPB,,,a1\n").encode("cp1251")
        assert self.refused(empty_registry, data) == ["line 2: the file is not UTF-8 text (save it as CSV UTF-8)"]

    def test_missing_columns(self, empty_registry):
        errors = self.refused(empty_registry, b"name,office\nAnna,Deputy\n")
        assert errors == ["line 1: missing columns: district, territory_code, external_id"]

    def test_duplicate_ids_and_bad_rows_are_all_listed_with_line_numbers(self, empty_registry):
        rows = [
            ROWS[0],
            ("", "Deputy", "", "SPB", "", "", "x2"),
            ("Boris", "Deputy", "", "SPB", "not-an-address", "", "x3"),
            ("Clara", "Deputy", "", "SPB", "", "bad domain!", "x4"),
            ("Dup", "Deputy", "", "SPB", "", "", "a1"),
        ]
        data = registry_csv(rows) + b"too,few,fields\n"
        assert self.refused(empty_registry, data) == [
            "line 3: name is empty",
            "line 4: official_email is not an e-mail address",
            "line 5: official_email_domain is not a domain name",
            "line 6: external_id 'a1' repeats line 2",
            "line 7: 3 fields where the header has 7",
        ]

    def test_an_empty_file_and_a_file_without_members(self, empty_registry):
        assert self.refused(empty_registry, b"") == ["the file is empty: the first line must name the columns"]
        assert self.refused(empty_registry, HEADER.encode())[0].startswith("the file lists no members")

    def test_a_binary_file(self, empty_registry):
        assert "NUL" in self.refused(empty_registry, b"name\x00office")[0]

    def test_a_refused_reimport_leaves_the_registry_as_it_was(self, empty_registry):
        registry_import(registry=empty_registry, data=registry_csv(ROWS), source="good")
        with pytest.raises(ImportRefused):
            registry_import(registry=empty_registry, data=registry_csv([ROWS[0], ROWS[0]]), source="bad")
        assert RegistryMember.objects.filter(registry=empty_registry, active=True).count() == 3
        assert RegistryImport.objects.count() == 1


def test_parse_accepts_blank_trailing_lines():
    assert len(parse_registry_csv(registry_csv(ROWS) + b"\n,,,,,,\n")) == 3


class TestTheCommand:
    def test_imports_and_reports(self, empty_registry, tmp_path, capsys):
        path = tmp_path / "deputies.csv"
        path.write_bytes(registry_csv(ROWS))
        call_command("import_registry", "deputies", str(path))
        assert "3 added, 0 changed, 0 removed" in capsys.readouterr().out
        assert RegistryImport.objects.get().source == "command: deputies.csv"

    def test_refuses_with_every_error(self, empty_registry, tmp_path):
        path = tmp_path / "bad.csv"
        path.write_bytes(registry_csv([ROWS[0], ROWS[0]]))
        with pytest.raises(CommandError, match="line 3: external_id 'a1' repeats line 2"):
            call_command("import_registry", "deputies", str(path))

    def test_unknown_registry_and_missing_file(self, empty_registry, tmp_path):
        with pytest.raises(CommandError, match="no registry"):
            call_command("import_registry", "nope", str(tmp_path / "x.csv"))
        with pytest.raises(CommandError, match="cannot read"):
            call_command("import_registry", "deputies", str(tmp_path / "x.csv"))
