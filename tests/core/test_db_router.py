"""Public reads may go to a read replica; nothing else does."""

from undersign.core.db import ReplicaRouter, public_reads
from undersign.petitions.models import Petition


def test_without_replicas_everything_uses_the_primary():
    router = ReplicaRouter()
    with public_reads():
        assert router.db_for_read(Petition) is None


def test_public_reads_go_to_a_replica_and_nothing_else_does():
    router = ReplicaRouter(replicas=["replica1"])
    assert router.db_for_read(Petition) is None  # signing, confirming, moderation, jobs
    with public_reads():
        assert router.db_for_read(Petition) == "replica1"
        assert router.db_for_write(Petition) == "default"
    assert router.db_for_read(Petition) is None
    assert router.allow_migrate("replica1", "petitions") is False
    assert router.allow_migrate("default", "petitions") is True
