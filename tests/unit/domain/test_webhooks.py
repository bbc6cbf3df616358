"""Which webhook URLs the server agrees to call, and how delivery attempts are spaced."""

import pytest

from peerdigest.config import Settings
from peerdigest.domain.webhooks import NOT_ALLOWED, UnsafeWebhookURL, retry_delays, validate_url


def settings(**overrides) -> Settings:
    values = {"webhook_secret": "s3cret", "webhook_allowed_hosts": ""}
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "http://172.16.5.4/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0/hook",
        "http://100.64.0.1/hook",
        "http://224.0.0.1/hook",  # multicast
        "http://[ff02::1]/hook",
        "http://[ff0e::1]/hook",  # global-scope multicast, which ipaddress calls global
        "http://255.255.255.255/hook",
        "http://[64:ff9b::7f00:1]/hook",  # NAT64 of 127.0.0.1
        "http://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 of 169.254.169.254
        "http://[64:ff9b:1::a00:1]/hook",  # local-use NAT64 of 10.0.0.1
        "http://[2002:7f00:1::]/hook",  # 6to4 of 127.0.0.1
        "http://[2002:c0a8:1::1]/hook",  # 6to4 of 192.168.0.1
        "http://[::127.0.0.1]/hook",  # IPv4-compatible
        "http://[::ffff:10.0.0.1]/hook",
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook",  # Teredo with client 127.0.0.1
        "http://no-such-host.invalid/hook",
    ],
)
def test_urls_that_reach_into_the_servers_own_network_are_refused_saying_only_not_allowed(url):
    with pytest.raises(UnsafeWebhookURL) as refused:
        validate_url(url, settings())
    assert str(refused.value) == NOT_ALLOWED  # never what the host resolves to


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.org/hook", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("http:///no-host", "http:// or https://"),
        ("http://example.org:99999/hook", "invalid port"),
    ],
)
def test_urls_that_are_no_http_are_refused(url, reason):
    with pytest.raises(UnsafeWebhookURL, match=reason):
        validate_url(url, settings())


def test_public_addresses_pass():
    for url in ("https://93.184.215.14/hook", "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/hook",
                "http://[64:ff9b::5db8:d70e]/hook", "http://[2002:5db8:d70e::1]/hook"):  # NAT64 and 6to4 of a public one
        assert validate_url(url, settings()) == url


def test_an_allow_listed_host_passes_whatever_it_resolves_to():
    allowing = settings(webhook_allowed_hosts="127.0.0.1, Receiver.Internal")
    assert validate_url("http://127.0.0.1:9000/hook", allowing)
    assert validate_url("http://receiver.internal/hook", allowing)
    with pytest.raises(UnsafeWebhookURL, match="WEBHOOK_ALLOWED_HOSTS"):
        validate_url("http://10.0.0.8/hook", allowing)


def test_without_a_signing_secret_no_webhook_url_is_accepted():
    with pytest.raises(UnsafeWebhookURL, match="WEBHOOK_SECRET"):
        validate_url("https://93.184.215.14/hook", settings(webhook_secret=""))


def test_five_attempts_by_default_with_doubling_delays():
    assert retry_delays(settings(webhook_retry_delay=30)) == [30, 60, 120, 240]
    assert retry_delays(settings(webhook_max_attempts=1)) == []
