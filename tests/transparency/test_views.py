"""The log over HTTP: c2sp.org/tlog-tiles paths and caching, the published key, proofs, and
receipts with and without JavaScript."""

from __future__ import annotations

import base64
import gzip
import re

import pytest

from tests.factories import last_confirm_link, make_petition, sign_and_confirm, signer
from undersign.signatures.services import signature_create, signature_invalidate
from undersign.transparency.keys import log_origin
from undersign.transparency.services import log_integrate_all
from undersign_verify import merkle, note
from undersign_verify.entries import commitment
from undersign_verify.receipt import parse_receipt
from undersign_verify.tiles import decode_bundle, split_hashes

pytestmark = pytest.mark.django_db


@pytest.fixture
def log(client):
    petition = make_petition()
    for _ in range(300):
        sign_and_confirm(petition)
    log_integrate_all()
    return petition


def vkey(client) -> note.Verifier:
    return note.parse_vkey(client.get("/.well-known/undersign-log.json").json()["verifier_key"])


class TestServing:
    def test_well_known_publishes_origin_key_and_count_rule(self, client):
        body = client.get("/.well-known/undersign-log.json").json()
        assert body["origin"] == log_origin() == "testserver/log"
        assert body["count_rule_version"] == 1
        assert note.parse_vkey(body["verifier_key"]).name == log_origin()

    def test_checkpoint_is_signed_and_cached_for_seconds(self, client, log):
        response = client.get("/log/checkpoint")
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert "max-age=2" in response["Cache-Control"]
        checkpoint = note.open_checkpoint(response.content.decode(), vkey(client))
        assert checkpoint.size == 302

    def test_tiles_at_spec_paths_full_ones_immutable(self, client, log):
        full = client.get("/log/tile/0/000")
        assert full.status_code == 200 and len(full.content) == 8192
        assert "immutable" in full["Cache-Control"] and "max-age=31536000" in full["Cache-Control"]
        partial = client.get("/log/tile/0/001.p/46")
        assert split_hashes(partial.content) and len(partial.content) == 46 * 32
        assert client.get("/log/tile/1/000.p/1").content == merkle.perfect_root(split_hashes(full.content))
        entries = decode_bundle(client.get("/log/tile/entries/000").content)
        assert [merkle.leaf_hash(e) for e in entries] == split_hashes(full.content)
        assert len(decode_bundle(client.get("/log/tile/entries/001.p/46").content)) == 46
        assert len(decode_bundle(client.get("/log/tile/entries/001.p/3").content)) == 3  # an older size's

    def test_entry_bundles_are_gzipped_for_clients_that_accept_it(self, client, log):
        """c2sp.org/tlog-tiles: entry bundles SHOULD be compressed at the HTTP layer."""
        plain = client.get("/log/tile/entries/000")
        assert "Content-Encoding" not in plain and "Accept-Encoding" in plain["Vary"]
        gzipped = client.get("/log/tile/entries/000", headers={"accept-encoding": "gzip"})
        assert gzipped["Content-Encoding"] == "gzip" and "Accept-Encoding" in gzipped["Vary"]
        assert len(gzipped.content) < len(plain.content)
        assert gzip.decompress(gzipped.content) == plain.content
        assert "immutable" in gzipped["Cache-Control"]

    def test_hash_tiles_are_not_gzipped(self, client, log):
        """Hashes do not compress: they go as they are."""
        assert "Content-Encoding" not in client.get("/log/tile/0/000", headers={"accept-encoding": "gzip"})

    @pytest.mark.parametrize(
        "path",
        ["/log/tile/0/001", "/log/tile/0/001.p/47", "/log/tile/2/000.p/1", "/log/tile/0/1", "/log/tile/0/x000/001"],
    )
    def test_tiles_beyond_the_checkpoint_or_non_canonical_are_404(self, client, log, path):
        assert client.get(path).status_code == 404


class TestReceipts:
    def test_proof_endpoint_says_pending_then_proves(self, client):
        petition = make_petition()
        signature = sign_and_confirm(petition)
        c = bytes(signature.commitment).hex()
        assert client.get(f"/log/proof/{c}").status_code == 404
        log_integrate_all()
        body = client.get(f"/log/proof/{c}").json()
        cp = note.open_checkpoint(body["checkpoint"], vkey(client))
        assert body["tree_size"] == cp.size and body["revoked"] is False
        assert body["petition_uuid"] == str(petition.uuid)

    def test_without_javascript_r_is_shown_once_and_builds_the_receipt(self, client):
        petition = make_petition()
        person = signer()
        signature_create(petition=petition, details=person)
        signature_id, token = last_confirm_link(person.email)
        page = client.post(f"/en/signatures/confirm/{token}/")
        assert "no-store" in page["Cache-Control"]
        r = re.search(r'id="receipt-code-value">([0-9a-f]{64})<', page.content.decode()).group(1)
        from undersign.signatures.models import Signature

        stored = Signature.objects.get(pk=signature_id)
        assert bytes(stored.commitment) == commitment(petition.uuid, bytes.fromhex(r))
        assert r.encode() not in bytes(stored.commitment)  # C is stored, never r
        assert client.post("/en/log/receipt", {"petition": str(petition.uuid), "r": r}).status_code == 404  # pending
        log_integrate_all()
        response = client.post("/en/log/receipt", {"petition": str(petition.uuid), "r": r})
        assert response["Content-Disposition"] == 'attachment; filename="signature.tlog-proof"'
        receipt = parse_receipt(response.content.decode())
        assert receipt.r == bytes.fromhex(r) and receipt.petition == petition.uuid
        checked = client.post("/en/log/verify", {"receipt": response.content.decode()})
        assert checked.status_code == 200
        assert "Counted:" in checked.content.decode()

    def test_a_posted_commitment_is_used_and_no_code_is_shown(self, client):
        petition = make_petition()
        person = signer()
        signature_create(petition=petition, details=person)
        signature_id, token = last_confirm_link(person.email)
        c = commitment(petition.uuid, bytes(range(32)))
        page = client.post(f"/en/signatures/confirm/{token}/", {"commitment": c.hex()})
        assert f'data-receipt-commitment="{c.hex()}"' in page.content.decode()
        assert "receipt-code-value" not in page.content.decode()

    @staticmethod
    def signed_with_a_receipt(client) -> tuple[int, str]:
        """A signature confirmed with a commitment and appended: its id and receipt."""
        petition = make_petition()
        person = signer()
        signature_create(petition=petition, details=person)
        signature_id, token = last_confirm_link(person.email)
        r = bytes(range(32))
        client.post(f"/en/signatures/confirm/{token}/", {"commitment": commitment(petition.uuid, r).hex()})
        log_integrate_all()
        return signature_id, client.post(
            "/en/log/receipt", {"petition": str(petition.uuid), "r": r.hex()}
        ).content.decode()

    def test_verify_page_reports_revocation_and_tampering(self, client):
        signature_id, text = self.signed_with_a_receipt(client)
        from undersign.signatures.models import Signature

        signature_invalidate(signature=Signature.objects.get(pk=signature_id), reason="fraud")
        log_integrate_all()
        assert "Revoked:" in client.post("/en/log/verify", {"receipt": text}).content.decode()
        receipt = parse_receipt(text)
        forged = text.replace(base64.b64encode(receipt.proof[0]).decode(), base64.b64encode(bytes(32)).decode())
        response = client.post("/en/log/verify", {"receipt": forged})
        assert response.status_code == 400 and "does not check out" in response.content.decode()

    def test_verify_page_says_a_withdrawn_signature_was_withdrawn(self, client):
        _, text = self.signed_with_a_receipt(client)
        counted = client.post("/en/log/verify", {"receipt": text}).content.decode()
        assert "Counted:" in counted and 'href="/en/signatures/withdraw/"' in counted
        client.post("/en/signatures/withdraw/", {"receipt": text})
        log_integrate_all()
        page = client.post("/en/log/verify", {"receipt": text}).content.decode()
        assert "Withdrawn:" in page and "Revoked:" not in page

    def test_receipt_code_must_be_well_formed(self, client):
        assert client.post("/en/log/receipt", {"petition": "nope", "r": "zz"}).status_code == 400
        assert client.get("/en/log/receipt").status_code == 200
