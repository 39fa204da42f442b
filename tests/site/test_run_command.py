"""Olga tries the embedded site on her laptop: `undersign run --addr` puts its links on the
address she chose, and restarting it on another port keeps the log's name, so the verifier
she ran first still accepts it; a LOG_ORIGIN naming another log stops every server command."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.processes import python_run

START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# The embedded defaults the test is about: none of the suite's own settings (its database
# included, PostgreSQL when the suite runs there) may reach the commands it starts.
NOT_INHERITED = ("DJANGO_", "UNDERSIGN_", "SITE_URL", "ALLOWED_HOSTS", "LOG_ORIGIN", "DATABASE_")


def environment(data: Path, **env: str) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(NOT_INHERITED)}
    return {**inherited, "UNDERSIGN_DATA_DIR": str(data), **env}


def undersign(data: Path, *argv: str, **env: str) -> subprocess.CompletedProcess:
    return python_run(["-m", "undersign", *argv], env=environment(data, **env), without=NOT_INHERITED)


def well_known_of_a_run(data: Path, port: int) -> tuple[dict, str]:
    """Start `undersign run --addr 127.0.0.1:<port>`, read what the log publishes, stop it."""
    # Its output goes to a file: a pipe nobody reads while it starts fills up, and then the
    # server blocks on its next log line.
    output = data / f"run-{port}.log"
    with output.open("w") as log:
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and command
            [sys.executable, "-m", "undersign", "run", "--addr", f"127.0.0.1:{port}"],
            env=environment(data),
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                base = f"http://127.0.0.1:{port}"
                with urllib.request.urlopen(f"{base}/.well-known/undersign-log.json", timeout=10) as answer:  # noqa: S310
                    body = json.loads(answer.read())
                with urllib.request.urlopen(f"{base}/log/checkpoint", timeout=10) as answer:  # noqa: S310
                    return body, answer.read().decode()
            except OSError:
                assert server.poll() is None, output.read_text()
                assert time.monotonic() < deadline, f"undersign run did not answer within {START_SECONDS} s"
                time.sleep(0.2)  # polling a starting server, not waiting for an effect
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)


def test_olga_restarts_on_another_port_and_the_log_keeps_its_name(tmp_path):
    assert undersign(tmp_path, "migrate", "--noinput").returncode == 0
    first_port, second_port = free_port(), free_port()

    first, checkpoint = well_known_of_a_run(tmp_path, first_port)
    assert first["origin"] == f"127.0.0.1:{first_port}/log"  # a new log takes the first address
    assert first["checkpoint"] == f"http://127.0.0.1:{first_port}/log/checkpoint"

    second, checkpoint_again = well_known_of_a_run(tmp_path, second_port)
    assert second["origin"] == first["origin"] and second["verifier_key"] == first["verifier_key"]
    assert checkpoint_again == checkpoint and checkpoint.startswith(f"127.0.0.1:{first_port}/log\n")
    assert second["checkpoint"] == f"http://127.0.0.1:{second_port}/log/checkpoint"  # links follow

    listed = undersign(tmp_path, "log_origin")
    assert listed.stdout.strip().endswith(f"\t127.0.0.1:{first_port}/log")

    for command in (["serve"], ["worker"], ["run", "--addr", f"127.0.0.1:{second_port}"]):
        refused = undersign(tmp_path, *command, LOG_ORIGIN="petitions.example.org/log")
        assert refused.returncode != 0, command
        assert "transparency.E001" in refused.stderr
        assert f"but the log is named '127.0.0.1:{first_port}/log'" in refused.stderr


@pytest.mark.django_db
def test_run_refuses_an_address_the_settings_were_not_loaded_for(settings):
    settings.RUN_ADDR = "127.0.0.1:8000"
    with pytest.raises(CommandError, match="start the server with `undersign run --addr 0.0.0.0:9999`"):
        call_command("run", addr="0.0.0.0:9999")
