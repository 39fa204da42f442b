"""bench/growth.py makes its million signatures with SQL of its own, which the schema can leave
behind (a new NOT NULL column): the rows it makes must be ones the site takes as its own, that
the integrator logs and counts and ``reconcile_counts`` finds right."""

import pytest
from bench.growth import FILL_SQL, PENDING_SQL
from django.core.management import call_command
from django.db import connection

from tests.factories import make_petition
from undersign.transparency.services import log_integrate_all

pytestmark = pytest.mark.django_db


def test_the_growth_rows_are_logged_and_counted():
    if connection.vendor != "postgresql":
        pytest.skip("the growth benchmark's SQL is PostgreSQL's (sha256, uuid_send)")
    petition = make_petition()
    log_integrate_all()
    petition.refresh_from_db()
    before = petition.signature_count
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(max(id), 0) + 1 FROM signatures_signature")
        first = cursor.fetchone()[0]
        cursor.execute(FILL_SQL, {"petition": petition.pk, "status": "confirmed", "tag": "c", "rows": 25})
        cursor.execute(PENDING_SQL, {"petition": petition.pk, "first": first})
    log_integrate_all()
    petition.refresh_from_db()
    assert petition.signature_count == before + 25
    call_command("reconcile_counts")  # exits non-zero on any difference
