import re

import pytest
from django.core.exceptions import ImproperlyConfigured

from undersign.core.env import env_bool, env_choice, env_int, env_list, env_raw, env_witnesses, parse_email_url
from undersign_verify.cosignature import Cosigner
from undersign_verify.note import Signer


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


class TestWitnesses:
    """LOG_WITNESSES: '<vkey> <url>' per witness, separated by commas or lines."""

    def test_unset_is_no_witness(self, monkeypatch):
        monkeypatch.delenv("X_WITNESSES", raising=False)
        assert env_witnesses("X_WITNESSES") == ()

    def test_entries_by_comma_or_line_with_comments(self, monkeypatch, tmp_path):
        one, two = Cosigner.generate("w.example/1").key, Cosigner.generate("w.example/2").key
        monkeypatch.setenv("X_WITNESSES", f"{one.vkey} https://w.example/1/, {two.vkey}  http://127.0.0.1:7380")
        parsed = env_witnesses("X_WITNESSES")
        assert [(w.name, w.key, w.url) for w in parsed] == [
            ("w.example/1", one, "https://w.example/1"),
            ("w.example/2", two, "http://127.0.0.1:7380"),
        ]
        listing = tmp_path / "witnesses"
        listing.write_text(f"# ours\n{one.vkey} https://w.example/1\n\n{two.vkey} http://127.0.0.1:7380\n")
        monkeypatch.delenv("X_WITNESSES")
        monkeypatch.setenv("X_WITNESSES_FILE", str(listing))
        assert env_witnesses("X_WITNESSES") == parsed

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("{one}", "'<vkey> <url>'"),
            ("https://w.example/1 {one}", "not a witness vkey"),
            ("{log} https://w.example/1", "not a witness vkey"),  # a log's key (type 0x01), not a witness's
            ("{tampered} https://w.example/1", "not a witness vkey"),
            ("{one} ftp://w.example/1", "submission prefix"),
            ("{one} https://w.example/1?x=1", "submission prefix"),
            ("{one} https://", "submission prefix"),
            ("{one} https://a.example, {one} https://b.example", "listed twice"),
        ],
    )
    def test_a_malformed_entry_stops_the_process(self, monkeypatch, value, message):
        one = Cosigner.generate("w.example/1").key.vkey
        log = Signer.from_seed("w.example/1", b"\x01" * 32).verifier.vkey
        tampered = one.replace("w.example/1", "w.example/9")  # the hash no longer matches the name
        monkeypatch.setenv("X_WITNESSES", value.format(one=one, log=log, tampered=tampered))
        with pytest.raises(ImproperlyConfigured, match=f"X_WITNESSES, witness \\d: .*{re.escape(message)}"):
            env_witnesses("X_WITNESSES")

    def test_no_more_witnesses_than_a_note_carries_signatures(self, monkeypatch):
        entries = [f"{Cosigner.generate(f'w.example/{n}').key.vkey} https://w{n}.example" for n in range(16)]
        monkeypatch.setenv("X_WITNESSES", ",".join(entries[:15]))
        assert len(env_witnesses("X_WITNESSES")) == 15
        monkeypatch.setenv("X_WITNESSES", ",".join(entries))
        with pytest.raises(ImproperlyConfigured, match="at most 15"):
            env_witnesses("X_WITNESSES")


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
