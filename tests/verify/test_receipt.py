"""Parsing a receipt (``undersign_verify.receipt``): whatever the text, a receipt or a
``ReceiptError``, which every caller (the verifier, ``/en/log/verify``, the withdrawal page) turns
into a message; any other exception was a server error on the withdrawal page."""

from __future__ import annotations

import base64
import secrets
import uuid

import pytest

from undersign_verify.receipt import HEADER, Receipt, ReceiptError, parse_receipt


def text(index: str) -> str:
    extra = base64.b64encode(bytes([1]) + uuid.uuid4().bytes + secrets.token_bytes(32)).decode()
    return f"{HEADER}\nextra {extra}\nindex {index}\n\nexample.org/log\n1\nAAAA\n"


def test_a_receipt_round_trips():
    receipt = Receipt(uuid.uuid4(), secrets.token_bytes(32), 7, (secrets.token_bytes(32),), "example.org/log\n")
    assert parse_receipt(receipt.text()) == receipt


@pytest.mark.parametrize("index", ["²", "٣", "1²", "-1", " 1", ""])
def test_an_index_of_anything_but_ascii_digits_is_refused(index):
    with pytest.raises(ReceiptError, match="index"):
        parse_receipt(text(index))
