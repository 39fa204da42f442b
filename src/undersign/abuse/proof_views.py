"""The proof of work's web side: renewing a challenge, and the sign pages' policy in attack mode."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

from undersign.abuse.proof import PROOF_ASKED, proof_renew
from undersign.core.http import private_page
from undersign.core.middleware import CONTENT_SECURITY_POLICY
from undersign.petitions.models import Petition

# hash-wasm compiles its Argon2 from WebAssembly, which 'script-src' must allow by name; only
# the pages that ask for a proof get it, every other page keeps the static policy.
PROOF_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace(
    "script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", 1
)


def allows_proof_wasm(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For the sign pages: if the page rendered asked for a proof (``{% proof_fields %}``), its
    policy lets it run WebAssembly. The middleware only sets a policy a view did not set."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if getattr(request, PROOF_ASKED, False):
            response.headers["Content-Security-Policy"] = PROOF_CONTENT_SECURITY_POLICY
        return response

    return wrapper


@private_page
@require_safe
def proof_renew_view(request: HttpRequest, petition_id: int) -> HttpResponse:
    """A fresh challenge for a sign page left open longer than its challenge lives. Answers only
    the holder of a challenge we issued for this petition, and the same 400 to anything else
    (an unknown petition included), so it tells no one which petitions exist."""
    petition = Petition.objects.filter(pk=petition_id).first()
    fresh = proof_renew(petition=petition, challenge=request.GET.get("challenge", "")) if petition else None
    if fresh is None:
        return JsonResponse({"error": "not a challenge of this petition"}, status=400)
    return JsonResponse({"challenge": fresh})
