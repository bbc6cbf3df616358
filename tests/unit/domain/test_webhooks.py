"""Which webhook URLs the server agrees to call, and how delivery attempts are spaced."""

import pytest

from peerdigest.config import Settings
from peerdigest.domain.webhooks import UnsafeWebhookURL, retry_delays, validate_url


def settings(**overrides) -> Settings:
    values = {"webhook_secret": "s3cret", "webhook_allowed_hosts": ""}
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8080/hook", "loopback"),
        ("http://localhost/hook", "loopback"),
        ("http://[::1]/hook", "loopback"),
        ("http://[::ffff:127.0.0.1]/hook", "loopback"),
        ("http://10.1.2.3/hook", "private"),
        ("https://192.168.0.10/hook", "private"),
        ("http://172.16.5.4/hook", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://0.0.0.0/hook", "loopback"),
        ("http://100.64.0.1/hook", "reserved"),
        ("ftp://example.org/hook", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("http:///no-host", "http:// or https://"),
        ("http://example.org:99999/hook", "invalid port"),
    ],
)
def test_urls_that_reach_into_the_servers_own_network_or_are_no_http_are_refused(url, reason):
    with pytest.raises(UnsafeWebhookURL, match=reason):
        validate_url(url, settings())


def test_public_addresses_pass():
    assert validate_url("https://93.184.215.14/hook", settings()) == "https://93.184.215.14/hook"


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
