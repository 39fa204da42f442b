"""Sharing a petition: the share section, the Open Graph image, the badge and the embeddable
count, each only for a published petition."""

from __future__ import annotations

import io
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from PIL import Image

from tests.factories import make_petition
from undersign.petitions.models import Petition, PetitionState
from undersign.sharing import image as share_image_module
from undersign.sharing import selectors
from undersign.sharing.selectors import count_bucket

pytestmark = pytest.mark.django_db


def with_count(petition: Petition, count: int) -> Petition:
    Petition.objects.filter(pk=petition.pk).update(signature_count=count)
    petition.refresh_from_db()
    return petition


def meta(page: str, name: str) -> str:
    match = re.search(rf'<meta (?:property|name)="{re.escape(name)}" content="([^"]*)"', page)
    assert match, f"no {name}"
    return unescape(match.group(1))


class TestCountBucket:
    @pytest.mark.parametrize(
        ("count", "bucket"),
        [(0, 0), (7, 7), (99, 99), (100, 100), (1234, 1200), (1299, 1200), (56789, 56000), (1_000_001, 1_000_000)],
    )
    def test_two_significant_figures_from_a_hundred(self, count, bucket):
        assert count_bucket(count) == bucket


class TestPetitionPage:
    def test_open_graph_and_twitter_tags_are_absolute_and_name_the_image_of_the_bucket(self):
        petition = with_count(make_petition(action="Fix the bridge"), 1234)
        page = Client().get(f"/en/petitions/{petition.pk}/").content.decode()
        assert meta(page, "og:title") == "Fix the bridge"
        assert meta(page, "og:url") == f"http://testserver/en/petitions/{petition.pk}/"
        image = f"http://testserver/petitions/{petition.pk}/share/1200.png"
        assert meta(page, "og:image") == image
        assert meta(page, "twitter:image") == image
        assert meta(page, "twitter:card") == "summary_large_image"
        assert meta(page, "og:image:alt") == "Fix the bridge — 1,200+ signatures"

    def test_the_share_section_links_each_service_with_the_bare_address(self):
        petition = make_petition(action="Fix the bridge & the road")
        page = Client().get(f"/ru/petitions/{petition.pk}/").content.decode()
        shared = f"http://testserver/petitions/{petition.pk}/"
        assert f'id="share-link" type="text" readonly value="{shared}"' in page
        links = re.findall(r'<li><a href="([^"]+)" rel="noopener noreferrer"', page)
        hosts = [urlsplit(unescape(link)).netloc or urlsplit(unescape(link)).scheme for link in links]
        assert hosts == ["mailto", "t.me", "wa.me", "vk.com", "x.com", "www.facebook.com"]
        for link in links:
            query = parse_qs(urlsplit(unescape(link)).query)
            assert any(shared in value for values in query.values() for value in values), link
        mail = unescape(links[0])
        assert "%20" in mail and "+" not in mail.split("?", 1)[1]  # RFC 6068: spaces as %20
        assert parse_qs(urlsplit(mail).query)["subject"] == ["Fix the bridge & the road"]
        # No JavaScript: the copy button stays hidden and the field holds the link.
        assert re.search(r'<button type="button" class="secondary" hidden data-copy="share-link"', page)
        assert "/static/sharing/share.js" in page
        assert "<script" not in page.split("</head>")[0].split("<head>")[1]

    def test_the_embed_snippets_are_shown_as_text_and_escaped(self):
        petition = make_petition(action='Say "no" to <b>noise</b>')
        page = Client().get(f"/en/petitions/{petition.pk}/").content.decode()
        frame = re.search(r'<textarea id="embed-frame" readonly rows="3">(.*?)</textarea>', page).group(1)
        assert unescape(frame) == (
            f'<iframe src="http://testserver/en/petitions/{petition.pk}/embed/" width="400" height="230" '
            'title="Say &quot;no&quot; to &lt;b&gt;noise&lt;/b&gt;" loading="lazy"></iframe>'
        )
        badge = unescape(re.search(r'<textarea id="embed-badge" readonly rows="3">(.*?)</textarea>', page).group(1))
        assert badge.startswith(
            f'<a href="http://testserver/petitions/{petition.pk}/"><img src="http://testserver/petitions/{petition.pk}/badge.svg?lang=en"'
        )

    @pytest.mark.parametrize("state", [PetitionState.REJECTED, PetitionState.HIDDEN])
    def test_a_rejected_or_hidden_petition_is_not_offered_for_sharing(self, state):
        petition = make_petition(state=state)
        page = Client().get(f"/en/petitions/{petition.pk}/").content.decode()
        assert "og:image" not in page and "share-link" not in page and "badge.svg" not in page


class TestShareImage:
    def test_a_png_of_the_open_graph_size_cached_publicly(self):
        petition = with_count(make_petition(), 57)
        response = Client().get(f"/petitions/{petition.pk}/share/57.png")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert "public" in response["Cache-Control"] and "max-age=600" in response["Cache-Control"]
        assert Image.open(io.BytesIO(response.content)).size == (1200, 630)

    def test_another_bucket_is_sent_to_the_current_one(self):
        petition = with_count(make_petition(), 1234)
        for asked in (1100, 1234, 9999, 0):
            response = Client().get(f"/petitions/{petition.pk}/share/{asked}.png")
            assert response.status_code == 302
            assert response["Location"] == f"/petitions/{petition.pk}/share/1200.png"

    def test_drawn_once_per_bucket_then_served_from_the_cache(self, monkeypatch):
        petition = with_count(make_petition(action="Посадить деревья"), 1234)
        drawn = []
        real = selectors.render_share_image

        def counting(**kwargs):
            drawn.append(kwargs)
            return real(**kwargs)

        monkeypatch.setattr(selectors, "render_share_image", counting)
        client = Client()
        first = client.get(f"/petitions/{petition.pk}/share/1200.png").content
        assert client.get(f"/petitions/{petition.pk}/share/1200.png").content == first
        # The action and the count only: never a name.
        assert drawn == [{"action": "Посадить деревья", "count": "1,200+", "label": "signatures"}]

    def test_words_in_the_petitions_own_language(self, monkeypatch):
        petition = with_count(make_petition(action="Посадить деревья", language="ru"), 1234)
        drawn = []
        monkeypatch.setattr(selectors, "render_share_image", lambda **kwargs: drawn.append(kwargs) or b"png")
        Client().get(f"/petitions/{petition.pk}/share/1200.png")
        assert drawn == [{"action": "Посадить деревья", "count": "1\xa0200+", "label": "подписей"}]

    @pytest.mark.parametrize(
        "state", [PetitionState.VALIDATED, PetitionState.SPONSORED, PetitionState.REJECTED, PetitionState.HIDDEN]
    )
    def test_none_for_a_petition_that_is_not_published(self, state):
        petition = make_petition(state=state)
        client = Client()
        assert client.get(f"/petitions/{petition.pk}/share/1.png").status_code == 404
        assert client.get(f"/petitions/{petition.pk}/badge.svg").status_code == 404
        assert client.get(f"/en/petitions/{petition.pk}/embed/").status_code == 404

    def test_the_font_has_cyrillic(self):
        face = share_image_module.font(64, bold=True)
        assert share_image_module.font_path(bold=True) is not None, "install fonts-dejavu-core"
        missing = bytes(face.getmask("\U000f0000"))  # a private-use character: the font's box
        assert bytes(face.getmask("Ж")) != missing

    def test_without_dejavu_the_default_font_still_draws_it(self, monkeypatch):
        monkeypatch.setattr(share_image_module, "FONT_DIRS", ())
        share_image_module.font.cache_clear()
        try:
            png = share_image_module.render_share_image(action="Plant trees " * 40, count="1,200+", label="signatures")
        finally:
            share_image_module.font.cache_clear()
        assert Image.open(io.BytesIO(png)).size == (1200, 630)

    def test_a_long_action_is_cut_with_an_ellipsis_within_the_width(self):
        face, lines = share_image_module.fit_action("Очень длинное требование " * 30, 1024)
        assert len(lines) == share_image_module.max_lines(share_image_module.ACTION_SIZES[-1])
        assert lines[-1].endswith("…")
        assert all(face.getlength(line) <= 1024 for line in lines)


class TestBadge:
    def test_an_svg_of_the_live_count_in_the_petitions_language_or_the_one_asked(self):
        petition = with_count(make_petition(language="ru"), 1234)
        client = Client()
        response = client.get(f"/petitions/{petition.pk}/badge.svg")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/svg+xml"
        assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
        svg = response.content.decode()
        assert svg.startswith("<svg") and 'role="img"' in svg and "1\xa0234 подписи" in svg
        assert "1,234 signatures" in client.get(f"/petitions/{petition.pk}/badge.svg?lang=en").content.decode()

    def test_an_unknown_language_is_a_clear_400(self):
        petition = make_petition()
        response = Client().get(f"/petitions/{petition.pk}/badge.svg", {"lang": "xx"})
        assert response.status_code == 400
        assert response.content.decode() == "lang must be one of en, ru"

    def test_text_is_escaped(self, settings):
        settings.SITE_NAME = "A <b> & Co"
        petition = make_petition()
        svg = Client().get(f"/petitions/{petition.pk}/badge.svg").content.decode()
        assert "A &lt;b&gt; &amp; Co" in svg and "<b>" not in svg


class TestEmbed:
    def test_only_the_embed_page_may_be_framed(self):
        petition = with_count(make_petition(action="Fix the bridge"), 12)
        client = Client()
        embed = client.get(f"/en/petitions/{petition.pk}/embed/")
        assert embed.status_code == 200
        assert "X-Frame-Options" not in embed
        assert "frame-ancestors *" in embed["Content-Security-Policy"]
        assert "script-src 'self'" in embed["Content-Security-Policy"]
        page = embed.content.decode()
        assert "Fix the bridge" in page and ">12</span> signatures" in page
        assert f'href="/en/petitions/{petition.pk}/sign/" target="_blank" rel="noopener"' in page

        detail = client.get(f"/en/petitions/{petition.pk}/")
        assert detail["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in detail["Content-Security-Policy"]

    def test_a_closed_petition_says_so_and_offers_no_signing(self):
        petition = make_petition(state=PetitionState.CLOSED)
        page = Client().get(f"/ru/petitions/{petition.pk}/embed/").content.decode()
        assert "/sign/" not in page
