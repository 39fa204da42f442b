"""Production mode's settings: real e-mail only, HTTPS enforced, `check --deploy` clean, and the
admin's path a setting. Settings are read once per process, so each case loads them in a
subprocess with its own environment."""

import subprocess
from pathlib import Path

import pytest

from tests.processes import python_run
from undersign.core.keys import generate_environment_lines

# What docs/deployment.md asks a production host to set, with fresh keys.
PRODUCTION_ENV = {
    "UNDERSIGN_MODE": "production",
    "EMAIL_URL": "smtp+tls://mailer:secret@relay.example.org:587",
    "ALLOWED_HOSTS": "petitions.example.org",
    "SITE_URL": "https://petitions.example.org",
    "BEHIND_TLS_PROXY": "true",
    # Only named, never reached by these commands: the limits' counters must be shared.
    "REDIS_URL": "redis://127.0.0.1:6379/15",
}


def run(argv: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    keys = dict(line.split("=", 1) for line in generate_environment_lines())
    return python_run(
        argv,
        env={
            **keys,
            "UNDERSIGN_DATA_DIR": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            **env,
        },
        without=("UNDERSIGN_", "EMAIL_", "SECURE_", "ADMIN_", "DATABASE_", "SECRET_KEY"),
    )


def load_settings(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    return run(["-c", "import undersign.settings"], tmp_path, **env)


@pytest.mark.parametrize("url", ["file:///var/mail/undersign", "console://", "locmem://"])
def test_production_refuses_mail_that_reaches_no_one(tmp_path, url):
    refused = load_settings(tmp_path, **{**PRODUCTION_ENV, "EMAIL_URL": url})
    assert refused.returncode != 0
    assert "EMAIL_URL must be an smtp://, smtps:// or smtp+tls:// URL in production mode" in refused.stderr
    # The default (files in the data folder) is refused as well: production must name a relay.
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "EMAIL_URL"}
    assert "EMAIL_URL must be an smtp://" in load_settings(tmp_path, **env).stderr


def test_embedded_mode_keeps_file_mail(tmp_path):
    assert load_settings(tmp_path, UNDERSIGN_MODE="embedded", EMAIL_URL="file:///tmp/mail").returncode == 0


def test_check_deploy_is_clean_with_the_documented_production_settings(tmp_path):
    result = run(["-m", "undersign", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    # With HTTPS switched off it is not: our SecurityMiddleware is checked like Django's.
    weakened = {**PRODUCTION_ENV, "SECURE_SSL_REDIRECT": "false", "SECURE_HSTS_SECONDS": "0"}
    result = run(["-m", "undersign", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, **weakened)
    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W008" in result.stderr


def test_check_deploy_warns_when_the_limits_would_count_per_process(tmp_path):
    alone = {k: v for k, v in PRODUCTION_ENV.items() if k != "REDIS_URL"}
    result = run(["-m", "undersign", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, **alone)
    assert result.returncode != 0
    assert "core.W007" in result.stderr


def test_production_defaults_to_https_with_a_year_of_hsts(tmp_path):
    script = (
        "from undersign import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD)"
    )
    assert run(["-c", script], tmp_path, **PRODUCTION_ENV).stdout.split() == ["True", "31536000", "True", "False"]
    embedded = run(["-c", script], tmp_path, UNDERSIGN_MODE="embedded")
    assert embedded.stdout.split() == ["False", "0", "False", "False"]


@pytest.mark.parametrize("path", ["/admin/", "admin", "staff/admin/", "../", "./", "", "a b/"])
def test_a_bad_admin_path_is_refused(tmp_path, path):
    refused = load_settings(tmp_path, UNDERSIGN_MODE="embedded", ADMIN_PATH=path or " ")
    assert refused.returncode != 0 and "ADMIN_PATH must be one path segment" in refused.stderr


def test_onion_hosts_is_refused_for_site_urls(tmp_path):
    """Ignored, an onion name set the old way would be redirected to an https:// it lacks."""
    refused = load_settings(tmp_path, UNDERSIGN_MODE="embedded", ONION_HOSTS=f"{'a' * 56}.onion")
    assert refused.returncode != 0 and "ONION_HOSTS was replaced by SITE_URLS" in refused.stderr


def test_the_admin_answers_at_admin_path_only(tmp_path):
    script = (
        "import django; django.setup(); from django.urls import Resolver404, resolve, reverse\n"
        "print(reverse('admin:index'), resolve('/en/staff-7f3a/').app_name,"
        " resolve('/en/staff-7f3a/login/').url_name)\n"
        "try:\n    resolve('/en/admin/login/')\nexcept Resolver404:\n    print('no admin at /admin/')\n"
    )
    env = {"UNDERSIGN_MODE": "embedded", "ADMIN_PATH": "staff-7f3a/", "DJANGO_SETTINGS_MODULE": "undersign.settings"}
    result = run(["-c", script], tmp_path, **env)
    assert result.returncode == 0, result.stderr
    # The admin's login address is ours: it sends on to the staff login (delays, second step).
    assert result.stdout.splitlines() == ["/en/staff-7f3a/ admin admin_login", "no admin at /admin/"]
