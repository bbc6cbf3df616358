"""Which authentication settings the API refuses to start with."""

import pytest
from pydantic import ValidationError

from peerdigest.web.app import create_app
from peerdigest.config import Settings
from peerdigest.domain.auth import UnsafeAuthConfig, startup_problem


def settings(**values) -> Settings:
    return Settings(_env_file=None, **values)


@pytest.mark.parametrize("environment", ["development", "test"])
def test_dev_mode_is_allowed_in_development_and_tests(environment):
    assert startup_problem(settings(environment=environment, auth_mode="dev")) is None


def test_dev_mode_in_production_is_refused_even_when_the_app_is_built_directly():
    production = settings(environment="production", auth_mode="dev")
    assert "AUTH_MODE=dev" in startup_problem(production)
    with pytest.raises(UnsafeAuthConfig, match="ENVIRONMENT=production"):
        create_app(production)


def test_proxy_mode_needs_trusted_proxies():
    assert "TRUSTED_PROXIES" in startup_problem(settings(environment="production", auth_mode="proxy"))
    assert startup_problem(settings(environment="production", auth_mode="proxy", trusted_proxies="10.0.0.0/8")) is None
    assert startup_problem(settings(environment="production", auth_mode="token")) is None


def test_a_malformed_trusted_proxy_names_the_variable():
    with pytest.raises(ValidationError, match="TRUSTED_PROXIES"):
        settings(trusted_proxies="10.0.0.5, proxy.example")
