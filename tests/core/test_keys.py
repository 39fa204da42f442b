import base64
import json
import stat

import pytest
from django.core.exceptions import ImproperlyConfigured

from undersign.core.keys import load_key_material, parse_pii_keys

KEY = base64.b64encode(b"k" * 32).decode()
KEY_NAMES = (
    "SECRET_KEY",
    "UNDERSIGN_PII_KEYS",
    "UNDERSIGN_DEDUP_KEY",
    "UNDERSIGN_LOG_SIGNING_KEY",
    "UNDERSIGN_LIMITER_KEY",
    "UNDERSIGN_MEMBER_TAG_KEY",
)


@pytest.fixture
def no_key_env(monkeypatch):
    for name in KEY_NAMES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)


class TestEmbeddedKeys:
    def test_made_once_and_reused(self, no_key_env, tmp_path):
        first = load_key_material(production=False, data_dir=tmp_path)
        second = load_key_material(production=False, data_dir=tmp_path)
        assert first == second
        assert stat.S_IMODE((tmp_path / "keys.json").stat().st_mode) == 0o600
        assert len(first.dedup_key) == 32

    def test_supplied_keys_win_over_the_file(self, no_key_env, monkeypatch, tmp_path):
        load_key_material(production=False, data_dir=tmp_path)
        monkeypatch.setenv("UNDERSIGN_DEDUP_KEY", KEY)
        assert load_key_material(production=False, data_dir=tmp_path).dedup_key == b"k" * 32

    def test_a_key_added_later_joins_an_older_key_file(self, no_key_env, tmp_path):
        """A data folder made before the log signing key existed keeps its keys and gains it."""
        first = load_key_material(production=False, data_dir=tmp_path)
        stored = json.loads((tmp_path / "keys.json").read_text())
        del stored["UNDERSIGN_LOG_SIGNING_KEY"]
        (tmp_path / "keys.json").write_text(json.dumps(stored))
        again = load_key_material(production=False, data_dir=tmp_path)
        assert (again.dedup_key, again.pii_keys) == (first.dedup_key, first.pii_keys)
        assert len(again.log_signing_key) == 32
        assert load_key_material(production=False, data_dir=tmp_path) == again

    def test_damaged_key_file_is_refused(self, no_key_env, tmp_path):
        (tmp_path / "keys.json").write_text("{not json")
        with pytest.raises(ImproperlyConfigured, match="keys.json"):
            load_key_material(production=False, data_dir=tmp_path)


class TestProductionKeys:
    def test_refuses_to_start_without_supplied_keys(self, no_key_env, tmp_path):
        with pytest.raises(ImproperlyConfigured, match="production mode needs supplied keys"):
            load_key_material(production=True, data_dir=tmp_path)
        assert not (tmp_path / "keys.json").exists()

    def test_starts_with_supplied_keys(self, no_key_env, monkeypatch, tmp_path):
        monkeypatch.setenv("SECRET_KEY", "x" * 50)
        monkeypatch.setenv("UNDERSIGN_PII_KEYS", f"new:{KEY},old:{base64.b64encode(b'o' * 32).decode()}")
        monkeypatch.setenv("UNDERSIGN_DEDUP_KEY", KEY)
        monkeypatch.setenv("UNDERSIGN_LOG_SIGNING_KEY", KEY)
        monkeypatch.setenv("UNDERSIGN_LIMITER_KEY", KEY)
        monkeypatch.setenv("UNDERSIGN_MEMBER_TAG_KEY", KEY)
        keys = load_key_material(production=True, data_dir=tmp_path)
        assert keys.log_signing_key == b"k" * 32
        assert keys.pii_active_key_id == "new"
        assert set(keys.pii_keys) == {"new", "old"}

    def test_refuses_to_start_without_the_log_signing_key(self, no_key_env, monkeypatch, tmp_path):
        """Hosts that each made their own log key would sign different logs: a fork."""
        monkeypatch.setenv("SECRET_KEY", "x" * 50)
        monkeypatch.setenv("UNDERSIGN_PII_KEYS", f"k1:{KEY}")
        monkeypatch.setenv("UNDERSIGN_DEDUP_KEY", KEY)
        with pytest.raises(ImproperlyConfigured, match="missing: UNDERSIGN_LOG_SIGNING_KEY"):
            load_key_material(production=True, data_dir=tmp_path)

    def test_production_mode_refuses_at_settings_import(self, no_key_env, tmp_path):
        import subprocess
        import sys

        result = subprocess.run(
            [sys.executable, "-c", "import django; from django.conf import settings; settings.SECRET_KEY"],
            env={
                "UNDERSIGN_MODE": "production",
                "UNDERSIGN_DATA_DIR": str(tmp_path),
                "DJANGO_SETTINGS_MODULE": "undersign.settings",
                "PATH": "/usr/bin:/bin",
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode != 0
        assert "production mode needs supplied keys" in result.stderr


@pytest.mark.parametrize(
    "text",
    ["", "nokey", "k1:notbase64!!", f"k1:{base64.b64encode(b'short').decode()}", f"k1:{KEY},k1:{KEY}", f"bad id:{KEY}"],
)
def test_bad_pii_key_lists_are_refused(text):
    with pytest.raises(ImproperlyConfigured):
        parse_pii_keys(text)


def test_generated_environment_lines_parse(no_key_env, monkeypatch, tmp_path):
    from undersign.core.keys import generate_environment_lines

    for line in generate_environment_lines():
        name, _, value = line.partition("=")
        monkeypatch.setenv(name, value)
    keys = load_key_material(production=True, data_dir=tmp_path)
    assert len(keys.pii_keys[keys.pii_active_key_id]) == 32
    assert json.dumps(keys.secret_key)


def test_generate_keys_works_before_any_key_exists(no_key_env, tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "undersign", "generate_keys"],
        env={"UNDERSIGN_MODE": "production", "UNDERSIGN_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    names = [line.split("=", 1)[0] for line in result.stdout.splitlines()]
    assert names == list(KEY_NAMES)
