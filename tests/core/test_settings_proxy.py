"""TRUSTED_PROXY_HOPS: a small whole number, and only together with BEHIND_TLS_PROXY."""

import subprocess

from tests.processes import python_run


def load_settings(**env: str) -> subprocess.CompletedProcess:
    code = "from undersign import settings; print(settings.TRUSTED_PROXY_HOPS)"
    return python_run(["-c", code], env=env, without=("BEHIND_TLS_PROXY", "TRUSTED_PROXY_HOPS"))


def test_hops_default_to_one_and_accept_a_cdn_in_front():
    assert load_settings().stdout.strip() == "1"
    assert load_settings(BEHIND_TLS_PROXY="true", TRUSTED_PROXY_HOPS="2").stdout.strip() == "2"


def test_hops_out_of_range_or_without_a_proxy_are_refused_at_start():
    for hops, message in (("0", "at least 1"), ("6", "at most 5"), ("two", "whole number")):
        refused = load_settings(BEHIND_TLS_PROXY="true", TRUSTED_PROXY_HOPS=hops)
        assert refused.returncode != 0 and message in refused.stderr
    refused = load_settings(TRUSTED_PROXY_HOPS="2")
    assert refused.returncode != 0 and "set BEHIND_TLS_PROXY=true too" in refused.stderr
