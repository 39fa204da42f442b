"""The URLs of the benchmark's ``minimal-post`` phase (bench/minimal_settings.py): the sign
form's own paths, so that ``bench/lua/sign.lua`` and the runner's CSRF fetch work unchanged.

GET answers with a CSRF token in the form field the runner reads; POST stores one
signature-shaped row in ``bench_signature`` (the table pgbench's yardstick writes; the runner
creates it) and redirects, as the sign view does on success. Nothing else: no form class, no
template, no limiter, no outbox."""

import os

from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_protect

INSERT = (
    "INSERT INTO bench_signature (petition_id, name, email, tag, region, created_at, status)"
    " VALUES (%s, %s, %s, %s, %s, %s, 'pending')"
)


@csrf_protect
def sign(request: HttpRequest, petition_id: int) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(f'<form method="post"><input name="csrfmiddlewaretoken" value="{get_token(request)}">')
    data = request.POST
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT,
            (
                petition_id,
                data.get("name", ""),
                data.get("email", ""),
                os.urandom(32),
                data.get("region", ""),
                timezone.now(),
            ),
        )
    return HttpResponseRedirect(f"/en/petitions/{petition_id}/signed/")


def ready(request: HttpRequest) -> HttpResponse:
    return HttpResponse("minimal-post")


urlpatterns = [
    path("en/petitions/", ready),
    path("en/petitions/<int:petition_id>/sign/", sign),
]
