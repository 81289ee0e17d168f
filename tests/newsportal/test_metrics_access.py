"""Who may scrape /metrics (NEWSPORTAL_METRICS_ALLOWED): the list is parsed once per process,
with the same check as the trusted proxies (articles.client_ip.address_listed)."""

from __future__ import annotations

import ipaddress
from unittest import mock

from django.test import RequestFactory, override_settings

from newsportal.metrics import may_scrape


def scrape_from(remote_addr: str, **headers: str):
    return RequestFactory().get("/metrics", REMOTE_ADDR=remote_addr, **headers)


def test_the_allowed_addresses_and_networks_may_scrape():
    assert may_scrape(scrape_from("127.0.0.1")) and may_scrape(scrape_from("::1"))
    assert not may_scrape(scrape_from("203.0.113.5"))
    with override_settings(NEWSPORTAL_METRICS_ALLOWED=["10.0.0.0/24", "192.0.2.7"]):
        assert may_scrape(scrape_from("10.0.0.200")) and may_scrape(scrape_from("192.0.2.7"))
        assert not may_scrape(scrape_from("127.0.0.1")) and not may_scrape(scrape_from("10.0.1.1"))
    assert may_scrape(scrape_from("127.0.0.1"))  # the override is over: the default list again


def test_a_unix_socket_peer_may_scrape_only_when_unix_is_listed():
    assert not may_scrape(scrape_from(""))
    with override_settings(NEWSPORTAL_METRICS_ALLOWED=["unix"]):
        assert may_scrape(scrape_from("")) and not may_scrape(scrape_from("127.0.0.1"))


@override_settings(NEWSPORTAL_TRUSTED_PROXIES=1, NEWSPORTAL_METRICS_ALLOWED=["127.0.0.1", "10.0.0.0/24"])
def test_a_forwarded_scrape_is_judged_by_the_client_behind_the_proxy():
    assert may_scrape(scrape_from("127.0.0.1", HTTP_X_FORWARDED_FOR="10.0.0.5"))
    assert not may_scrape(scrape_from("127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5"))
    with override_settings(NEWSPORTAL_TRUSTED_PROXIES=0):  # the client cannot be told: refused
        assert not may_scrape(scrape_from("127.0.0.1", HTTP_X_FORWARDED_FOR="10.0.0.5"))


@override_settings(NEWSPORTAL_METRICS_ALLOWED=["10.9.0.0/16", "2001:db8::/32"])
def test_the_list_is_parsed_once_per_process_not_per_request():
    with mock.patch("ipaddress.ip_network", wraps=ipaddress.ip_network) as parse:
        for _ in range(20):
            assert may_scrape(scrape_from("10.9.3.4")) and not may_scrape(scrape_from("198.51.100.1"))
    assert parse.call_count <= 2  # the list's two networks, once (none if parsed before)
