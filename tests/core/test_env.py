import pytest
from django.core.exceptions import ImproperlyConfigured

from undersign.core.env import env_bool, env_choice, env_int, env_list, env_raw, parse_email_url


class TestEnvHelpers:
    def test_bool_accepts_only_true_or_false_words(self, monkeypatch):
        monkeypatch.setenv("X_FLAG", "yes")
        assert env_bool("X_FLAG", False) is True
        monkeypatch.setenv("X_FLAG", "off")
        assert env_bool("X_FLAG", True) is False
        monkeypatch.setenv("X_FLAG", "maybe")
        with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
            env_bool("X_FLAG", False)

    def test_int_refuses_words_and_out_of_range(self, monkeypatch):
        monkeypatch.setenv("X_NUM", "12")
        assert env_int("X_NUM", 1, minimum=1) == 12
        monkeypatch.setenv("X_NUM", "twelve")
        with pytest.raises(ImproperlyConfigured, match="whole number"):
            env_int("X_NUM", 1)
        monkeypatch.setenv("X_NUM", "0")
        with pytest.raises(ImproperlyConfigured, match="at least 1"):
            env_int("X_NUM", 5, minimum=1)

    def test_default_when_unset_or_empty(self, monkeypatch):
        monkeypatch.delenv("X_NUM", raising=False)
        assert env_int("X_NUM", 7) == 7
        monkeypatch.setenv("X_NUM", "")
        assert env_int("X_NUM", 7) == 7

    def test_file_variant_reads_secret_files(self, monkeypatch, tmp_path):
        secret = tmp_path / "secret"
        secret.write_text("s3cret\n")
        monkeypatch.delenv("X_SECRET", raising=False)
        monkeypatch.setenv("X_SECRET_FILE", str(secret))
        assert env_raw("X_SECRET") == "s3cret"
        monkeypatch.setenv("X_SECRET", "other")
        with pytest.raises(ImproperlyConfigured, match="not both"):
            env_raw("X_SECRET")

    def test_missing_file_fails_loudly(self, monkeypatch, tmp_path):
        monkeypatch.delenv("X_SECRET", raising=False)
        monkeypatch.setenv("X_SECRET_FILE", str(tmp_path / "nope"))
        with pytest.raises(ImproperlyConfigured, match="cannot read"):
            env_raw("X_SECRET")

    def test_list_and_choice(self, monkeypatch):
        monkeypatch.setenv("X_LIST", "a, b,,c")
        assert env_list("X_LIST", []) == ["a", "b", "c"]
        monkeypatch.setenv("X_MODE", "staging")
        with pytest.raises(ImproperlyConfigured, match="one of"):
            env_choice("X_MODE", "embedded", ("embedded", "production"))


class TestEmailUrl:
    def test_smtp_with_credentials(self):
        config = parse_email_url("smtp+tls://user%40x:p%3Ass@mail.example.org:2525")
        assert config["EMAIL_HOST"] == "mail.example.org"
        assert config["EMAIL_PORT"] == 2525
        assert config["EMAIL_HOST_USER"] == "user@x"
        assert config["EMAIL_HOST_PASSWORD"] == "p:ss"
        assert config["EMAIL_USE_TLS"] is True

    def test_file_backend_writes_eml(self):
        config = parse_email_url("file:///var/mail/undersign")
        assert config["EMAIL_BACKEND"] == "undersign.core.mail.EmlFileBackend"
        assert config["EMAIL_FILE_PATH"] == "/var/mail/undersign"

    @pytest.mark.parametrize("url", ["ftp://x", "smtp://", "smtp://host:notaport", "file://"])
    def test_bad_urls_are_refused(self, url):
        with pytest.raises(ImproperlyConfigured):
            parse_email_url(url)
