"""The embedded server's address and the site address that follows it: `undersign run --addr`
and `make run ADDR=…` set SITE_URL (links and e-mails) unless it is set, and the site answers
to that host. Settings are read once per process, so those cases run in a subprocess."""

from __future__ import annotations

import json
import socket
import subprocess

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


ONION = "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion"


@pytest.mark.parametrize(
    ("url", "parsed"),
    [
        ("https://Petitions.Example.org/", "https://petitions.example.org"),
        (f" HTTP://{ONION} ", f"http://{ONION}"),
        ("http://[2001:DB8::7]:8080", "http://[2001:db8::7]:8080"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ],
)
def test_a_site_address_is_read_in_one_form(url, parsed):
    assert site_address.parse_site_url(url, setting="SITE_URLS") == parsed


@pytest.mark.parametrize(
    "url",
    [
        "petitions.example.org",  # no scheme: a relative URL
        "ftp://petitions.example.org",
        "https://",
        "https://petitions.example.org/petitions",  # links are the address and a path: no prefix
        "https://petitions.example.org/?a=1",
        "https://petitions.example.org/#top",
        "https://user@petitions.example.org",
        "https://petitions.example.org:0",
        "https://petitions.example.org:99999",
        "https://petitions.example.org:http",
    ],
)
def test_anything_else_is_refused_with_the_setting_and_an_example(url):
    with pytest.raises(ImproperlyConfigured, match="SITE_URLS takes absolute http:// or https:// addresses"):
        site_address.parse_site_url(url, setting="SITE_URLS")


def never() -> str:
    raise AssertionError("the listening address is asked only when no address is set")


def test_the_primary_is_site_url_then_the_first_listed_then_the_listening_address():
    listed = ["https://b.example", f"http://{ONION}"]
    assert site_address.site_urls(site_url="https://a.example/", listed=listed, default=never) == [
        "https://a.example",
        "https://b.example",
        f"http://{ONION}",
    ]
    assert site_address.site_urls(site_url="", listed=listed, default=never) == listed
    assert site_address.site_urls(site_url="", listed=[], default=lambda: "http://127.0.0.1:8000") == [
        "http://127.0.0.1:8000"
    ]


def test_an_address_listed_twice_counts_once_and_one_host_twice_is_refused():
    urls = site_address.site_urls(site_url="https://a.example", listed=["https://a.example/"], default=never)
    assert urls == ["https://a.example"]
    with pytest.raises(ImproperlyConfigured, match="name the host of https://a.example twice"):
        site_address.site_urls(site_url="https://a.example", listed=["http://A.example:8080"], default=never)


SHOW_ALL = (
    "import json, django; django.setup(); from django.conf import settings; "
    "print(json.dumps([settings.SITE_URL, settings.SITE_URLS, settings.ALLOWED_HOSTS]))"
)


def all_addresses(tmp_path, **env: str) -> subprocess.CompletedProcess:
    return python_run(
        ["-c", SHOW_ALL],
        env={"UNDERSIGN_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "undersign.settings", **env},
        without=("UNDERSIGN_", "SITE_URL", "ALLOWED_HOSTS", "LOG_ORIGIN"),
    )


def test_site_urls_name_the_primary_and_every_host_is_answered(tmp_path):
    result = all_addresses(tmp_path, SITE_URLS=f"https://petitions.example, http://{ONION}/")
    assert result.returncode == 0, result.stderr
    url, urls, hosts = json.loads(result.stdout)
    assert url == "https://petitions.example" and urls == [url, f"http://{ONION}"]
    assert hosts == ["127.0.0.1", "localhost", "[::1]", "petitions.example", ONION]


def test_without_site_urls_the_site_has_its_one_address(tmp_path):
    result = all_addresses(tmp_path, SITE_URL="https://petitions.example")
    assert json.loads(result.stdout)[:2] == ["https://petitions.example", ["https://petitions.example"]]


def test_a_bad_site_address_stops_every_process(tmp_path):
    result = all_addresses(tmp_path, SITE_URLS="https://petitions.example,petitions.onion")
    assert result.returncode != 0
    assert "SITE_URLS takes absolute http:// or https:// addresses" in result.stderr
    result = all_addresses(tmp_path, SITE_URL="petitions.example")
    assert result.returncode != 0 and "SITE_URL takes absolute" in result.stderr
