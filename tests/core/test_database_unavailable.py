"""While the database cannot be reached, pages answer 503 "try again shortly", not a trace."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def unreachable_database():
    if connection.vendor != "postgresql":
        # Django never closes the in-memory SQLite test database, so it cannot be cut off.
        pytest.skip("needs the PostgreSQL server (set DATABASE_URL=postgres://…)")
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["PORT"] = "1"  # nothing listens there
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@pytest.mark.parametrize("path", ["/en/", "/en/petitions/1/", "/en/petitions/1/sign/", "/en/petitions/"])
def test_pages_answer_503_with_retry_after(client, unreachable_database, path):
    response = client.get(path)
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert b"Try again shortly" in response.content
    assert b"Traceback" not in response.content


def test_health_says_unavailable(client, unreachable_database):
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json() == {"status": "unavailable"}
