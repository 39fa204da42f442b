"""The embedded server's address and the site address that follows it: `undersign run --addr`
and `make run ADDR=…` set SITE_URL (links and e-mails) unless it is set, and the site answers
to that host. Settings are read once per process, so those cases run in a subprocess."""

from __future__ import annotations

import json
import socket

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.processes import python_run
from undersign import cli
from undersign.core import site_address
from undersign.core.site_address import allowed_host, parse_addr, site_url_for_addr


@pytest.mark.parametrize(
    ("addr", "parsed"),
    [
        ("127.0.0.1:8000", ("127.0.0.1", 8000)),
        ("0.0.0.0:8080", ("0.0.0.0", 8080)),  # noqa: S104
        ("Petitions.LAN:80", ("petitions.lan", 80)),
        ("[::1]:8000", ("[::1]", 8000)),
        ("9000", ("127.0.0.1", 9000)),
    ],
)
def test_an_address_is_read_as_runserver_reads_it(addr, parsed):
    assert parse_addr(addr) == parsed


@pytest.mark.parametrize("addr", ["", "localhost", "127.0.0.1:0", "127.0.0.1:70000", "[nope]:80", "http://x:80"])
def test_a_bad_address_is_refused_with_its_form(addr):
    with pytest.raises(ImproperlyConfigured, match="host:port, \\[IPv6\\]:port or a port"):
        parse_addr(addr)


def test_links_name_the_address_listened_on():
    assert site_url_for_addr("127.0.0.1:8000") == "http://127.0.0.1:8000"
    assert site_url_for_addr("petitions.lan:8080") == "http://petitions.lan:8080"


def test_every_interface_gives_links_this_machines_outward_address(monkeypatch):
    outward = {socket.AF_INET: "192.0.2.7", socket.AF_INET6: "2001:db8::7"}
    monkeypatch.setattr(site_address, "outward_address", outward.__getitem__)
    assert site_url_for_addr("0.0.0.0:8080") == "http://192.0.2.7:8080"
    assert site_url_for_addr("[::]:8080") == "http://[2001:db8::7]:8080"


def test_without_a_route_the_outward_address_is_the_loopback(monkeypatch):
    def no_route(*args, **kwargs):
        raise OSError("Network is unreachable")

    monkeypatch.setattr(socket, "socket", no_route)
    assert site_address.outward_address(socket.AF_INET) == "127.0.0.1"
    assert site_address.outward_address(socket.AF_INET6) == "::1"


def test_allowed_hosts_name_ipv6_in_brackets():
    assert allowed_host("http://[2001:db8::7]:8080") == "[2001:db8::7]"
    assert allowed_host("https://Petitions.example.org") == "petitions.example.org"


def test_the_command_line_hands_runs_address_to_the_settings():
    assert cli._run_addr(["run", "--addr", "0.0.0.0:8080"]) == "0.0.0.0:8080"
    assert cli._run_addr(["run", "--addr=[::]:8080", "--verbosity", "2"]) == "[::]:8080"
    assert cli._run_addr(["run"]) is None
    assert cli._run_addr(["serve", "--addr", "x"]) is None


SHOW = (
    "import json, django; django.setup(); from django.conf import settings; "
    "print(json.dumps([settings.SITE_URL, settings.ALLOWED_HOSTS, settings.LOG_ORIGIN_DEFAULT]))"
)


def site(tmp_path, **env: str) -> tuple[str, list[str], str]:
    result = python_run(
        ["-c", SHOW],
        env={"UNDERSIGN_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "undersign.settings", **env},
        without=("UNDERSIGN_", "SITE_URL", "ALLOWED_HOSTS", "LOG_ORIGIN"),
    )
    assert result.returncode == 0, result.stderr
    return tuple(json.loads(result.stdout))


def test_the_site_follows_the_address_and_answers_to_it(tmp_path):
    url, hosts, origin = site(tmp_path, UNDERSIGN_ADDR="petitions.lan:8080")
    assert url == "http://petitions.lan:8080" and origin == "petitions.lan:8080/log"
    assert hosts == ["127.0.0.1", "localhost", "[::1]", "petitions.lan"]
    assert site(tmp_path)[0] == "http://127.0.0.1:8000"  # the default is unchanged


def test_every_interface_is_answered_at_the_outward_address(tmp_path):
    url, hosts, _ = site(tmp_path, UNDERSIGN_ADDR="0.0.0.0:8080")
    host = url.removeprefix("http://").removesuffix(":8080")
    assert host != "0.0.0.0" and host in hosts  # noqa: S104


def test_a_set_site_url_wins_over_the_address(tmp_path):
    url, hosts, _ = site(
        tmp_path, UNDERSIGN_ADDR="0.0.0.0:8080", SITE_URL="https://petitions.example.org/", ALLOWED_HOSTS="a.example"
    )
    assert url == "https://petitions.example.org"
    assert hosts == ["a.example", "petitions.example.org"]  # the site's own host is always answered


def test_a_bad_address_stops_every_process(tmp_path):
    result = python_run(
        ["-c", "import undersign.settings"],
        env={"UNDERSIGN_DATA_DIR": str(tmp_path), "UNDERSIGN_ADDR": "every-interface"},
        without=("UNDERSIGN_",),
    )
    assert result.returncode != 0
    assert "the server address must be host:port, [IPv6]:port or a port" in result.stderr
