"""The language of a page is in its URL (``/en/…``, ``/ru/…``), and nowhere else.

Django's LocaleMiddleware would also read a language cookie and the session, which would make a
public page differ by a cookie (``Vary: Cookie``) and so uncacheable by a shared cache
(design.md). Here the prefix decides; ``Accept-Language`` is read only to redirect a bare page
URL (``/petitions/7/``) to its prefixed form, and that redirect says it varies by it. Data paths
(``.json``, ``.csv``, the log) have no prefix: they answer the same to everyone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import get_script_prefix, is_valid_path, reverse, translate_url
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import (
    get_supported_language_variant,
    parse_accept_lang_header,
)

# The URL arguments that are a mailed link's secret (signatures.links, verification's leave link).
SECRET_ARGUMENTS = frozenset({"token", "check"})


class HttpResponseTemporaryRedirect(HttpResponseRedirect):
    # 307 keeps the method and the body: a form posted to a bare URL reaches its page intact.
    status_code = 307


def language_from_accept(request: HttpRequest) -> str:
    """The first of the browser's languages we have, else the site's own."""
    for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        if code == "*":
            break
        try:
            return get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


class UrlLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from_path = translation.get_language_from_path(request.path_info)
        language = from_path or settings.LANGUAGE_CODE
        # Like translation.override: what runs next on this thread (a job, the next request)
        # does not inherit this request's language.
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = self.get_response(request)
            if from_path is None and response.status_code == 404:
                return self._redirect_bare(request) or response
        if from_path is not None:
            response.headers.setdefault("Content-Language", from_path)
        return response

    def _redirect_bare(self, request: HttpRequest) -> HttpResponse | None:
        language = language_from_accept(request)
        urlconf = getattr(request, "urlconf", None)
        prefixed_path = f"/{language}{request.path_info}"
        # The prefix pattern matches the active language's only.
        with translation.override(language):
            if not is_valid_path(prefixed_path, urlconf):
                return None
        script_prefix = get_script_prefix()
        target = request.get_full_path().replace(script_prefix, f"{script_prefix}{language}/", 1)
        redirect_class = HttpResponseRedirect if request.method in ("GET", "HEAD") else HttpResponseTemporaryRedirect
        response = redirect_class(target)
        patch_vary_headers(response, ("Accept-Language",))
        return response


def language_links(request: HttpRequest) -> list[dict[str, str | bool]]:
    """This page in each of the site's languages: plain links, so switching needs no script
    and leaves no cookie."""
    match = request.resolver_match
    if match is not None and SECRET_ARGUMENTS & match.kwargs.keys():
        # The page's address carries a mailed link's secret: writing it into the page would
        # make pages differ by link (they must not reveal whether a link is real) and put the
        # secret where a saved or shared page keeps it. Those pages come from a mail, which is
        # already in its reader's language.
        return []
    current = translation.get_language()
    links = []
    for code, name in settings.LANGUAGES:
        url = translate_url(request.get_full_path(), code)
        links.append({"code": code, "name": name, "url": url, "current": code == current})
    return links


def reverse_bare(viewname: str, args: Sequence[object] = ()) -> str:
    """A page's address without its language prefix, for data that must read the same whoever
    fetches it (JSON, CSV): following it, each visitor is redirected to their own language."""
    with translation.override(settings.LANGUAGE_CODE):
        path = reverse(viewname, args=args)
    prefixed = f"{get_script_prefix()}{settings.LANGUAGE_CODE}/"
    if path.startswith(prefixed):
        return get_script_prefix() + path.removeprefix(prefixed)
    return path
