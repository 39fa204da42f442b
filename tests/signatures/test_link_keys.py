"""The links' keyed checks derive their keys once per process: mailed links must keep opening,
so each must stay what Django's ``salted_hmac`` gives."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.utils.crypto import salted_hmac

from undersign.signatures import links


def _b64(raw: bytes) -> str:
    return links._b64(raw)


@pytest.mark.parametrize("secret", ["first secret key " * 4, "a rotated secret key, ключ " * 3])
def test_the_tokens_and_checks_are_salted_hmacs(secret: str) -> None:
    tag = bytes(range(32))
    with override_settings(SECRET_KEY=secret):
        token = links.unsubscribe_token(tag=tag)
        assert token == _b64(salted_hmac("undersign.unsubscribe-token/v1", tag, algorithm="sha256").digest())
        for purpose, check in [
            ("undersign.petition-link/v1", links.petition_link_check),
            ("undersign.withdraw-link/v1", links.withdraw_link_check),
            ("undersign.data-request-link/v1", links.data_link_check),
            ("undersign.group-leave-link/v1", links.group_leave_check),
            ("undersign.claim-news-link/v1", links.claim_news_check),
        ]:
            assert check(token=token) == _b64(salted_hmac(purpose, token, algorithm="sha256").digest()[:16])
