"""``undersign serve``, ``worker`` and ``beat``: the command lines they hand over to."""

import pytest
from django.core.management import CommandError, call_command

from undersign.core.management.commands.serve import server_argv


def test_serve_runs_granian_in_wsgi_mode_with_the_asked_workers_and_respawns_killed_ones():
    argv = server_argv(server="granian", host="0.0.0.0", port=9000, workers=3)  # noqa: S104
    assert argv[1:3] == ["-m", "granian"]
    assert argv[argv.index("--interface") + 1] == "wsgi"
    assert argv[argv.index("--workers") + 1] == "3"
    assert argv[argv.index("--host") + 1] == "0.0.0.0"  # noqa: S104
    assert "--respawn-failed-workers" in argv
    assert argv[-1] == "undersign.wsgi:application"


def test_serve_can_run_gunicorn_sync_workers_for_comparison():
    argv = server_argv(server="gunicorn", host="127.0.0.1", port=9000, workers=2)
    assert argv[argv.index("--worker-class") + 1] == "sync"
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:9000"


@pytest.mark.parametrize("command", ["worker", "beat"])
def test_worker_and_beat_refuse_to_start_without_a_broker(command):
    with pytest.raises(CommandError, match="REDIS_URL"):
        call_command(command)
