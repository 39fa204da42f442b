"""Keep what would single out a person out of the logs.

Secrets travel in URLs: Django logs the path of every 4xx, the dev server (and, when turned on,
granian) every request, and a logged confirmation token would let a log reader confirm (or
unsubscribe) someone else's signature; the signature's id beside it ties a request to a row of
a dump, and a proof request for one commitment marks whoever checks that receipt. Client
addresses are cut to their network (IPv4 /24, IPv6 /48), enough to see an attack, not a person.
"""

from __future__ import annotations

import ipaddress
import logging
import re

_SEGMENT = r"[^/\s\"?]+"
# /signatures/<id>/confirm/<token>/ and …/unsubscribe/…: both the token and the signature's id.
# Withdrawal, data-request, one-time data and group-leaving links carry a signer's token too,
# and most a keyed check after it: fixed per signature, it would tie one signer's visits together.
_SIGNATURE_LINK = re.compile(
    rf"/{_SEGMENT}/(confirm|unsubscribe|petition|withdraw|data|my-data|group)/{_SEGMENT}(?:/{_SEGMENT})?"
)
# /petitions/<id>/sponsor/<token>/: the petition's id is public, the token is not.
_SECRET_SEGMENT = re.compile(rf"/(sponsor)/{_SEGMENT}")
_PROOF = re.compile(r"/log/proof/[0-9A-Za-z]+")
_IPV4 = re.compile(r"(?<![\d.])(\d{1,3}\.\d{1,3}\.\d{1,3})\.\d{1,3}(?![\d.])")
_IPV6_CANDIDATE = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")

IPV4_PREFIX = 24
IPV6_PREFIX = 48


def truncate_address(address: str) -> str:
    """An IP address cut to its network (``192.0.2.0``, ``2001:db8:1::``); anything else as is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    prefix = IPV4_PREFIX if ip.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


def _ipv6(match: re.Match[str]) -> str:
    text = match.group(0)
    return truncate_address(text) if text.count(":") >= 2 and "." not in text else text


def redact(text: str) -> str:
    text = _SIGNATURE_LINK.sub(r"/[redacted]/\1/[redacted]", text)
    text = _SECRET_SEGMENT.sub(r"/\1/[redacted]", text)
    text = _PROOF.sub("/log/proof/[redacted]", text)
    text = _IPV4.sub(r"\1.0", text)
    return _IPV6_CANDIDATE.sub(_ipv6, text)


class RedactSecretsFilter(logging.Filter):
    # The embedded mail backend logs links on purpose: it is how a developer without a mail
    # client follows them. Production sends mail by SMTP and logs no links.
    ALLOWED = ("undersign.mail",)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name in self.ALLOWED:
            return True
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
