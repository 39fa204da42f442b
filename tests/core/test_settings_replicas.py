"""DATABASE_REPLICA_URLS adds read replicas next to the primary, with its connection settings."""

import json
import os
import subprocess
import sys


def settings_databases(**env: str) -> dict:
    code = (
        "import json, undersign.settings as s; "
        "print(json.dumps({k: [v['NAME'], v['CONN_MAX_AGE'], v.get('TEST', {})] for k, v in s.DATABASES.items()}))"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DJANGO_"))}
    result = subprocess.run(
        [sys.executable, "-c", code], env={**environment, **env}, capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(result.stdout)


def test_each_replica_url_becomes_a_replica_database_mirrored_in_tests():
    databases = settings_databases(
        DATABASE_URL="postgres://u@primary:5432/undersign",
        DATABASE_REPLICA_URLS="postgres://u@r1:5432/undersign, postgres://u@r2:5432/undersign",
        DATABASE_CONN_MAX_AGE="30",
    )
    assert set(databases) == {"default", "replica1", "replica2"}
    assert databases["replica2"][:2] == ["undersign", 30]
    assert databases["replica1"][2] == {"MIRROR": "default"}


def test_no_replicas_by_default():
    assert set(settings_databases()) == {"default"}
