"""Reading a registry's CSV file. Everything is checked before anything is written, and every
problem is reported at once with its line number, so a staff member fixes the file in one go
and a bad file never leaves a registry half-imported."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from undersign.core.errors import Refusal

REQUIRED_COLUMNS = ("name", "office", "district", "territory_code", "external_id")
OPTIONAL_COLUMNS = ("official_email", "official_email_domain")
REQUIRED_VALUES = ("name", "office", "territory_code", "external_id")
MAX_LENGTHS = {
    "name": 200,
    "office": 200,
    "district": 200,
    "territory_code": 32,
    "external_id": 100,
    "official_email": 254,
    "official_email_domain": 253,
}
MAX_ERRORS = 200  # enough to fix a file by; a wholly wrong file would otherwise list every line
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class ImportRefused(Refusal):
    """The file cannot be imported; ``errors`` says why, line by line."""

    # Lazy, so that the title is in the language of the request that shows it; Refusal types it str.
    title = gettext_lazy("The file cannot be imported")  # type: ignore[assignment]
    status = 400

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class MemberRow:
    line: int
    external_id: str
    name: str
    office: str
    district: str
    territory_code: str
    official_email: str
    official_email_domain: str


def _header_key(text: str) -> str:
    """``Territory code``, ``territory-code`` and ``territory_code`` name the same column."""
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def is_domain(text: str) -> bool:
    return bool(_DOMAIN.match(text))


def _check_row(line: int, values: dict[str, str]) -> list[str]:
    errors = [
        _("line %(line)s: %(column)s is empty") % {"line": line, "column": column}
        for column in REQUIRED_VALUES
        if not values[column]
    ]
    for column, limit in MAX_LENGTHS.items():
        if len(values.get(column, "")) > limit:
            errors.append(
                _("line %(line)s: %(column)s is longer than %(limit)s characters")
                % {"line": line, "column": column, "limit": limit}
            )
    if values["official_email"]:
        try:
            validate_email(values["official_email"])
        except ValidationError:
            errors.append(_("line %(line)s: official_email is not an e-mail address") % {"line": line})
    if values["official_email_domain"] and not is_domain(values["official_email_domain"]):
        errors.append(_("line %(line)s: official_email_domain is not a domain name") % {"line": line})
    if any(ord(ch) < 32 for value in values.values() for ch in value):
        errors.append(_("line %(line)s: control characters are not allowed") % {"line": line})
    return errors


def parse_registry_csv(data: bytes) -> list[MemberRow]:
    """The members a CSV file lists, or ``ImportRefused`` with every problem found.
    UTF-8 only, with or without a byte-order mark: guessing another encoding would import
    mangled names without anyone noticing."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRefused(
            [_("line %(line)s: the file is not UTF-8 text (save it as CSV UTF-8)") % {"line": line}]
        ) from None
    if "\x00" in text:
        raise ImportRefused([_("the file holds NUL characters: it is not a CSV text file")])
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ImportRefused([_("line %(line)s: %(problem)s") % {"line": 1, "problem": exc}]) from None
    if not header or not any(cell.strip() for cell in header):
        raise ImportRefused([_("the file is empty: the first line must name the columns")])
    columns = [_header_key(cell) for cell in header]
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise ImportRefused(
            [
                ngettext("line 1: missing column: %(columns)s", "line 1: missing columns: %(columns)s", len(missing))
                % {"columns": ", ".join(missing)}
            ]
        )
    repeated = sorted({column for column in columns if column and columns.count(column) > 1})
    if repeated:
        raise ImportRefused([_("line 1: column named twice: %(columns)s") % {"columns": ", ".join(repeated)}])

    rows: list[MemberRow] = []
    errors: list[str] = []
    first_line: dict[str, int] = {}
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, as spreadsheets leave at the end
            if len(cells) != len(columns):
                errors.append(
                    _("line %(line)s: %(fields)s fields where the header has %(columns)s")
                    % {"line": line, "fields": len(cells), "columns": len(columns)}
                )
                continue
            values = {column: cell.strip() for column, cell in zip(columns, cells, strict=True)}
            for column in OPTIONAL_COLUMNS:
                values.setdefault(column, "")
            values["official_email_domain"] = values["official_email_domain"].lower().removeprefix("@")
            row_errors = _check_row(line, values)
            external_id = values["external_id"]
            if external_id in first_line:
                row_errors.append(
                    _("line %(line)s: external_id %(external_id)s repeats line %(first)s")
                    % {"line": line, "external_id": repr(external_id), "first": first_line[external_id]}
                )
            elif external_id:
                first_line[external_id] = line
            errors.extend(row_errors)
            if not row_errors:
                rows.append(MemberRow(line=line, **{k: values[k] for k in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)}))
    except csv.Error as exc:
        errors.append(_("line %(line)s: %(problem)s") % {"line": reader.line_num, "problem": exc})
    if errors:
        raise ImportRefused(
            errors[:MAX_ERRORS]
            + ([_("… and %(count)s more") % {"count": len(errors) - MAX_ERRORS}] * (len(errors) > MAX_ERRORS))
        )
    if not rows:
        raise ImportRefused([_("the file lists no members: a registry cannot be emptied by an import")])
    return rows
