"""System checks that read the site's own state in the database, such as whether the PII master
key is due for rotation. They print warnings only: a site whose key is due still serves.

Django runs a check that reads the database only where a command names the database (its
convention: ``collectstatic`` in an image build must not need one). So each such check runs
at the start of the commands that run the site (``undersign serve``, ``worker``, ``run``: they
name it, through ``DatabaseChecksOnStart``), in ``undersign migrate`` and ``check --database
default``, and in ``undersign check --deploy``, which names none.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Warning, register
from django.core.checks.security import base as security
from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, DatabaseError
from django.test.utils import override_settings

from undersign.core.rotation import rotation_status

Messages = Callable[[], list[CheckMessage]]
ROTATING = 'docs/settings.md, "Rotating the keys"'


def _read(messages: Messages) -> list[CheckMessage]:
    try:
        return messages()
    except DatabaseError:
        return []  # no tables yet (before the first `migrate`), or no database reachable


def register_database_check(messages: Messages) -> None:
    """Register ``messages`` (a check that reads the default database) to run where a command
    names the database, and in ``check --deploy``; never twice in one run."""

    def on_start(
        app_configs: Sequence[AppConfig] | None = None, databases: Sequence[str] | None = None, **kwargs: Any
    ) -> list[CheckMessage]:
        return _read(messages) if databases and DEFAULT_DB_ALIAS in databases else []

    def on_deploy(
        app_configs: Sequence[AppConfig] | None = None, databases: Sequence[str] | None = None, **kwargs: Any
    ) -> list[CheckMessage]:
        return [] if databases else _read(messages)

    register(on_start)
    register(on_deploy, deploy=True)


class DatabaseChecksOnStart(BaseCommand):
    """A command that runs the site: its start-up checks include those that read the database."""

    def get_check_kwargs(self, options):  # typed by BaseCommand
        kwargs = super().get_check_kwargs(options)
        kwargs["databases"] = [DEFAULT_DB_ALIAS]
        return kwargs


def _ids(keys: dict[str, int]) -> str:
    return ", ".join(f"{kid} ({n} data keys)" for kid, n in sorted(keys.items()))


def master_keys_messages() -> list[CheckMessage]:
    """Whether the active PII master key is due for rotation, and what older ones still hold."""
    status = rotation_status()
    messages: list[CheckMessage] = []
    if status.replaced_by:
        messages.append(
            Warning(
                f"The PII master key {status.active_key_id!r}, first in UNDERSIGN_PII_KEYS here, was replaced by "
                f"{status.replaced_by!r}: this host's keys are out of date. New data keys made here are wrapped "
                "under the old key, and the hourly re-wrap refuses to run here.",
                hint=f"Put {status.replaced_by!r} first in UNDERSIGN_PII_KEYS on this host, as on the others, and "
                f"restart it ({ROTATING}).",
                id="core.W005",
            )
        )
    if status.overdue and status.active_since and status.due_at:
        messages.append(
            Warning(
                f"The PII master key {status.active_key_id!r} has been active since "
                f"{status.active_since:%Y-%m-%d}; its rotation was due on {status.due_at:%Y-%m-%d} "
                "(MASTER_KEY_ROTATION_DAYS).",
                hint=f"Put a new master key first in UNDERSIGN_PII_KEYS ({ROTATING}).",
                id="core.W001",
            )
        )
    configured = {kid: n for kid, n in status.still_needed.items() if kid not in status.missing}
    if configured:
        messages.append(
            Warning(
                f"Data keys are still wrapped under older master keys: {_ids(configured)}.",
                hint="The hourly re-wrap moves them to the active key, `undersign rewrap_keys` at once. "
                "Keep those keys configured until `undersign rewrap_keys --status` says no data key needs them.",
                id="core.W002",
            )
        )
    if status.missing:
        messages.append(
            Warning(
                f"Data keys are wrapped under master keys that are not configured: {_ids(status.missing)}. "
                "Their petitions' personal data cannot be read.",
                hint="If you still hold those keys, list them after the active one in UNDERSIGN_PII_KEYS: "
                "the re-wrap then moves their data keys to the active key.",
                id="core.W003",
            )
        )
    if status.removable:
        messages.append(
            Warning(
                f"No data key needs the old master keys {', '.join(status.removable)} any more.",
                hint="Remove them from UNDERSIGN_PII_KEYS on every host and destroy every copy: until then, "
                f"backups keep destroyed data readable with them ({ROTATING}).",
                id="core.W004",
            )
        )
    return messages


OUR_SECURITY_MIDDLEWARE = "undersign.core.middleware.SecurityMiddleware"
DJANGO_SECURITY_MIDDLEWARE = "django.middleware.security.SecurityMiddleware"


def security_middleware_messages(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """Django's deploy checks of HSTS, the HTTPS redirect, nosniff and the referrer and opener
    policies look for its SecurityMiddleware by name and say nothing when it is missing. Ours
    replaces it (onion origins, core.origins), so they run here as if Django's were named; Django's own
    "middleware missing" (security.W001) is silenced in settings and said here instead."""
    if OUR_SECURITY_MIDDLEWARE not in settings.MIDDLEWARE:
        return [
            Warning(
                f"{OUR_SECURITY_MIDDLEWARE} is not in MIDDLEWARE: no HTTPS redirect, no HSTS, no nosniff.",
                hint="Put it first in MIDDLEWARE, as undersign.settings does.",
                id="core.W006",
            )
        ]
    named = [DJANGO_SECURITY_MIDDLEWARE if name == OUR_SECURITY_MIDDLEWARE else name for name in settings.MIDDLEWARE]
    checks = (
        security.check_sts,
        security.check_sts_include_subdomains,
        security.check_sts_preload,
        security.check_content_type_nosniff,
        security.check_ssl_redirect,
        security.check_referrer_policy,
        security.check_cross_origin_opener_policy,
    )
    with override_settings(MIDDLEWARE=named):
        return [message for check in checks for message in check(app_configs)]


def shared_cache_messages(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """The sign path's limits, spent proof-of-work challenges and staff's list edits live in the
    cache. Process memory serves the embedded mode's one process; behind several app processes
    each would count alone, letting every limit through once per process, and a list edit
    would reach only the process that made it."""
    if settings.CACHES["default"]["BACKEND"].endswith("LocMemCache"):
        return [
            Warning(
                "The cache is process memory: with several app processes every rate limit is counted "
                "per process, a spent proof-of-work challenge is known only to its process, and staff's "
                "allow- and block-list edits reach only one process.",
                hint="Set REDIS_URL (shared by every app process), as docs/deployment.md says.",
                id="core.W007",
            )
        ]
    return []
