"""Reading a database dump as whoever holds a leaked backup would: its bytes, the values hidden
in encoded columns, its schema's references and its rows. Shared by the dump tests."""

from __future__ import annotations

import base64
import binascii
import os
import re
import shutil
import sqlite3
import subprocess
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from django.db import connection


def dump_database() -> str:
    """The whole database as text: SQLite's ``iterdump``, or ``pg_dump`` of the test database."""
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        return "\n".join(connection.connection.iterdump())
    if connection.vendor == "postgresql":
        pg_dump = shutil.which("pg_dump")
        if pg_dump is None:
            pytest.skip("pg_dump is not installed: cannot dump the PostgreSQL database")
        db = connection.settings_dict
        command = [pg_dump, "--no-owner", "--no-privileges", "--dbname", db["NAME"]]
        for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
            if db.get(key):
                command += [option, str(db[key])]
        env = {**os.environ, "PGPASSWORD": str(db.get("PASSWORD") or "")}
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True, timeout=120)
        return done.stdout
    pytest.skip(f"no dump method for {connection.vendor}")


# --- values hidden in encodings -------------------------------------------------------------

_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_HEX = re.compile(r"(?:X'|\\\\?x)([0-9A-Fa-f]{16,})")


def _inflate(data: bytes) -> bytes | None:
    for wbits in (zlib.MAX_WBITS, -zlib.MAX_WBITS, zlib.MAX_WBITS | 32):
        try:
            return zlib.decompress(data, wbits)
        except zlib.error:
            continue
    return None


def _b64(token: str) -> bytes | None:
    padded = token + "=" * (-len(token) % 4)
    for decode in (base64.urlsafe_b64decode, base64.b64decode):
        try:
            return decode(padded)
        except (binascii.Error, ValueError):
            continue
    return None


def decoded_views(text: str, depth: int = 2) -> Iterator[str]:
    """``text`` and everything an attacker gets by decoding what looks encoded in it: base64
    (Django's session data, signed values ``payload:timestamp:signature``, JSON in base64) and
    hex (binary columns), each inflated when it is zlib-compressed, recursively."""
    yield text
    if depth == 0:
        return
    blobs: list[bytes] = []
    for match in _HEX.finditer(text):
        try:
            blobs.append(bytes.fromhex(match.group(1)))
        except ValueError:
            continue
    for token in _BASE64.findall(text):
        # Django's compressed signed values start with "." before the base64 payload.
        decoded = _b64(token.lstrip("."))
        if decoded is not None:
            blobs.append(decoded)
    for blob in blobs:
        for data in (blob, _inflate(blob)):
            if data:
                inner = data.decode("utf-8", errors="replace")
                yield from decoded_views(inner, depth - 1)


def found_in_decoded(dump: str, needles: list[str]) -> list[str]:
    """The needles found in the dump as text, hex-encoded, or inside any decoded value."""
    hits: set[str] = set()
    for view in decoded_views(dump):
        haystack = view.lower()
        hits |= {n for n in needles if n.lower() in haystack or n.encode().hex() in haystack}
    return sorted(hits)


# --- the dump's schema and rows -------------------------------------------------------------


@dataclass
class Table:
    name: str
    columns: list[str]
    types: dict[str, str] = field(default_factory=dict)
    rows: list[dict[str, str | None]] = field(default_factory=list)


@dataclass
class Schema:
    tables: dict[str, Table]
    # (table, column) → the table it names: foreign keys, and integer ``*_id`` columns that name
    # rows of another table without one (``core_outboundemail.signature_id``).
    references: dict[tuple[str, str], str]


def _sqlite_schema(dump: str) -> Schema:
    db = sqlite3.connect(":memory:")
    db.executescript(dump)
    tables: dict[str, Table] = {}
    references: dict[tuple[str, str], str] = {}
    names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    for name in names:
        info = db.execute(f'PRAGMA table_info("{name}")').fetchall()
        table = Table(name, [c[1] for c in info], {c[1]: c[2].lower() for c in info})
        cursor = db.execute(f'SELECT * FROM "{name}"')  # noqa: S608 - names from the dump's own catalogue
        table.rows = [
            {
                col: None if v is None else (v.hex() if isinstance(v, bytes) else str(v))
                for col, v in zip(table.columns, row, strict=True)
            }
            for row in cursor
        ]
        tables[name] = table
        for fk in db.execute(f'PRAGMA foreign_key_list("{name}")'):
            references[(name, fk[3])] = fk[2]
    return Schema(tables, references)


_COPY = re.compile(r"^COPY public\.(\w+) \(([^)]*)\) FROM stdin;$", re.M)
_CREATE = re.compile(r"^CREATE TABLE public\.(\w+) \((.*?)\n\);", re.M | re.S)
_FK = re.compile(
    r"ALTER TABLE ONLY public\.(\w+)\s+ADD CONSTRAINT \w+ FOREIGN KEY \((\w+)\) REFERENCES public\.(\w+)\(", re.S
)


def _copy_value(raw: str) -> str | None:
    if raw == r"\N":
        return None
    return re.sub(r"\\(.)", lambda m: {"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}.get(m.group(1), m.group(1)), raw)


def _pg_schema(dump: str) -> Schema:
    tables: dict[str, Table] = {}
    for match in _CREATE.finditer(dump):
        columns, types = [], {}
        for line in match.group(2).splitlines():
            parts = line.strip().rstrip(",").split(None, 1)
            if len(parts) == 2 and not parts[0].isupper():
                columns.append(parts[0].strip('"'))
                types[parts[0].strip('"')] = parts[1].lower()
        tables[match.group(1)] = Table(match.group(1), columns, types)
    for match in _COPY.finditer(dump):
        table = tables[match.group(1)]
        columns = [c.strip().strip('"') for c in match.group(2).split(",")]
        body = dump[match.end() + 1 : dump.index("\n\\.\n", match.end())]
        for line in body.split("\n") if body else []:
            table.rows.append(dict(zip(columns, map(_copy_value, line.split("\t")), strict=True)))
    references = {(t, c): target for t, c, target in _FK.findall(dump)}
    return Schema(tables, references)


def dump_schema(dump: str) -> Schema:
    """The tables, rows and references of ``dump``, read from the dump alone."""
    schema = _sqlite_schema(dump) if connection.vendor == "sqlite" else _pg_schema(dump)
    for table in schema.tables.values():
        for column in table.columns:
            if (table.name, column) in schema.references or not column.endswith("_id"):
                continue
            if not any(word in table.types.get(column, "") for word in ("int", "serial")):
                continue
            # An id column without a foreign key names the table whose name ends with it.
            noun = column.removesuffix("_id")
            for target in schema.tables:
                if target.endswith(f"_{noun}") and target != table.name:
                    schema.references[(table.name, column)] = target
    return schema


_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?([+-]\d{2}(:?\d{2})?|Z)?$")


def parse_timestamp(value: str | None) -> datetime | None:
    """A timestamp as SQLite or PostgreSQL dumps it (stored in UTC by Django), or None."""
    if value is None or not (match := _TIMESTAMP.match(value)):
        return None
    text = value.replace(" ", "T")
    if match.group(6) in (None, "Z"):
        text = text.removesuffix("Z") + "+00:00"
    elif len(match.group(6)) == 3:
        text += ":00"
    return datetime.fromisoformat(text).astimezone(UTC)
