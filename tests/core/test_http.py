"""The client's address: from the connection, or from the trusted proxy's hops, never from an
``X-Forwarded-For`` entry the client could have written itself."""

import pytest
from django.test import RequestFactory, override_settings

from tests.origins import CLEARNET, ONION
from undersign.core.http import ONION_CLIENTS, UNKNOWN_NETWORK, client_ip, client_network

CONNECTION = "10.0.0.7"  # the load balancer's (or, without one, the client's) own address


def request_with(forwarded: str | None = None, remote: str = CONNECTION):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def behind_proxy(hops: int = 1):
    return override_settings(BEHIND_TLS_PROXY=True, TRUSTED_PROXY_HOPS=hops)


@override_settings(BEHIND_TLS_PROXY=False)
def test_without_a_proxy_the_header_is_ignored():
    assert client_ip(request_with("198.51.100.9")) == CONNECTION
    assert client_ip(request_with("198.51.100.9, 203.0.113.4")) == CONNECTION
    assert client_ip(request_with(remote="2001:db8::1")) == "2001:db8::1"
    assert client_ip(request_with(remote="")) is None


def test_behind_a_load_balancer_the_last_entry_is_the_client():
    with behind_proxy(1):
        assert client_ip(request_with("203.0.113.4")) == "203.0.113.4"
        assert client_ip(request_with("2001:DB8:0::5")) == "2001:db8::5"  # normalised


def test_spoofed_leftmost_entries_never_win():
    # The client sent "X-Forwarded-For: 192.0.2.66, 192.0.2.67"; each proxy appended what it saw.
    spoofed = "192.0.2.66, 192.0.2.67, 203.0.113.4"
    with behind_proxy(1):
        assert client_ip(request_with(spoofed)) == "203.0.113.4"
    with behind_proxy(2):
        assert client_ip(request_with(f"{spoofed}, 198.51.100.20")) == "203.0.113.4"


def test_behind_a_cdn_and_a_load_balancer_the_second_entry_from_the_right_is_the_client():
    # The CDN appended the client's address, the load balancer the CDN's edge address.
    with behind_proxy(2):
        assert client_ip(request_with("203.0.113.4, 198.51.100.20")) == "203.0.113.4"
        assert client_ip(request_with("203.0.113.4,198.51.100.20")) == "203.0.113.4"


@pytest.mark.parametrize("forwarded", [None, "", "203.0.113.4"])
def test_too_few_entries_is_unknown_never_the_connection_or_another_entry(forwarded):
    with behind_proxy(2 if forwarded else 1):
        assert client_ip(request_with(forwarded)) is None
        assert client_network(request_with(forwarded)) == UNKNOWN_NETWORK


@pytest.mark.parametrize(
    "entry",
    [
        "unknown",
        "203.0.113.4:51234",  # a port: refused, not guessed at
        "[2001:db8::1]",
        "[2001:db8::1]:443",
        "fe80::1%eth0",  # a zone id, which no Internet client has
        "203.0.113.256",
        "203.0.113.4 198.51.100.1",
        "",
        "<script>",
    ],
)
def test_an_entry_that_is_not_an_address_is_unknown(entry):
    with behind_proxy(1):
        assert client_ip(request_with(f"198.51.100.1, {entry}")) is None
    with behind_proxy(2):
        assert client_ip(request_with(f"198.51.100.1, {entry}, 198.51.100.20")) is None


class TestOnionOrigin:
    """Every Tor client reaches the onion address from the local tor daemon, 127.0.0.1: its
    clients share one bucket of their own, never the clearnet's clients from that address."""

    def test_onion_clients_are_one_network_of_their_own(self, two_origins):
        onion = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_HOST=ONION)
        clearnet = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_HOST=CLEARNET)
        assert client_network(onion) == ONION_CLIENTS
        assert client_network(clearnet) == "127.0.0.0/24"

    def test_behind_a_proxy_the_onions_address_is_still_the_connections(self, two_origins):
        """The daemon reaches an app process directly, without the balancer's header: its
        address is kept (sealed) as any other, rather than none, which would mark the onion's
        signatures in a dump."""
        with behind_proxy(1):
            onion = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_HOST=ONION)
            clearnet = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_HOST=CLEARNET)
            assert client_ip(onion) == "127.0.0.1"
            assert client_ip(clearnet) is None  # no X-Forwarded-For: unknown
            assert client_network(onion) == ONION_CLIENTS
