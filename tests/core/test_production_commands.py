"""``undersign serve``, ``worker`` and ``beat``: the command lines they hand over to."""

import json
import logging
import time

import pytest
from django.core.management import CommandError, call_command
from granian.log import LogLevels, configure_logging, log_request_builder

from undersign.core.management.commands.serve import ACCESS_LOG_FORMAT, LOG_CONFIG, server_argv


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


def test_serve_ships_with_granians_access_log_off_whatever_the_environment_says():
    argv = server_argv(server="granian", host="127.0.0.1", port=9000, workers=1)
    assert "--no-access-log" in argv and "--access-log" not in argv
    assert argv[argv.index("--log-config") + 1] == str(LOG_CONFIG) and LOG_CONFIG.is_file()


def test_gunicorn_is_given_no_access_log_and_refuses_to_log_requests():
    argv = server_argv(server="gunicorn", host="127.0.0.1", port=9000, workers=1)
    assert not any(arg.startswith("--access-log") for arg in argv)
    with pytest.raises(CommandError, match="granian only"):
        server_argv(server="gunicorn", host="127.0.0.1", port=9000, workers=1, access_log=True)


def test_an_asked_for_access_log_names_no_client_and_redacts_token_paths(capsys):
    argv = server_argv(server="granian", host="127.0.0.1", port=9000, workers=1, access_log=True)
    assert "--access-log" in argv and "--no-access-log" not in argv
    fmt = argv[argv.index("--access-log-fmt") + 1]
    assert fmt == ACCESS_LOG_FORMAT and "addr" not in fmt and "query_string" not in fmt
    # What granian's process does with these arguments, then with one request.
    configure_logging(LogLevels.info, json.loads(LOG_CONFIG.read_text()), True)
    try:
        request = {
            "addr_remote": "203.0.113.77",
            "path": "/en/signatures/4711/confirm/s3cret-token/",
            "qs": "email=someone@example.org",
            "method": "POST",
            "scheme": "https",
            "protocol": "HTTP/1.1",
            "headers": lambda name: None,
        }
        log_request_builder(fmt)(time.time(), time.perf_counter(), request, 200)
    finally:
        for name in ("granian.access", "_granian"):
            logging.getLogger(name).handlers.clear()
    line = capsys.readouterr().out
    assert '"POST /en/signatures/[redacted]/confirm/[redacted]/ HTTP/1.1" 200' in line
    for secret in ("203.0.113", "4711", "s3cret", "someone"):
        assert secret not in line


@pytest.mark.parametrize("command", ["worker", "beat"])
def test_worker_and_beat_refuse_to_start_without_a_broker(command):
    with pytest.raises(CommandError, match="REDIS_URL"):
        call_command(command)
