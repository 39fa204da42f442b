"""``{% proof_fields petition %}``: attack mode's part of a sign form (``abuse.proof``).

Placed inside the form of every page that signs (the sign page, with or without a registry
claim, and the sponsor page). While the petition is not under attack, only the stamp of when
the form was loaded (``abuse.proof.proof_before_issue``: a form loaded just before attack mode
began is judged as before, for a short grace); in attack mode, and always on an onion origin
(``abuse.proof.proof_asked``), a fresh challenge, the hidden fields ``proof.js`` fills in, the
explanation of the wait and the scripts. It marks the request so that ``abuse.proof_views.allows_proof_wasm`` lets the
page run WebAssembly: the only pages whose policy allows it."""

from __future__ import annotations

from typing import Any

from django import template

from undersign.abuse.proof import (
    PROOF_ASKED,
    proof_asked,
    proof_before_issue,
    proof_challenge_issue,
    proof_parameters,
)
from undersign.core.origins import is_onion_origin
from undersign.petitions.models import Petition

register = template.Library()


@register.inclusion_tag("abuse/_proof.html", takes_context=True)
def proof_fields(context: template.Context, petition: Petition) -> dict[str, Any]:
    request = context.get("request")
    onion = request is not None and is_onion_origin(request)
    if not proof_asked(petition=petition, onion=onion):
        return {"asked": False, "before": proof_before_issue(petition=petition)}
    if request is not None:
        setattr(request, PROOF_ASKED, True)
    return {
        "asked": True,
        "onion": onion,
        "attack_mode": petition.attack_mode_since is not None,
        "petition": petition,
        "challenge": proof_challenge_issue(petition=petition),
        "parameters": proof_parameters(),
    }
