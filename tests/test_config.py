"""Settings: production mode refuses missing or placeholder secrets; the token pair may come
later from `wardbot zalo connect`."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.config import Settings

PRODUCTION = {
    "environment": "production",
    "zalo_app_id": "1234567890123456789",
    "zalo_oa_id": "388613280878808645",
    "zalo_app_secret": "app-secret-from-developers-zalo-me",
    "zalo_oa_secret_key": "oa-secret-key-from-webhook-page",
    "api_token": "a-long-random-api-token",
}


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_production_starts_with_real_secrets_and_no_token_pair_yet() -> None:
    settings = _settings(**PRODUCTION)
    assert settings.simulator is False  # replies are held until the OA is connected


@pytest.mark.parametrize(
    ("field", "value", "variable"),
    [
        ("zalo_app_secret", "", "ZALO_APP_SECRET"),
        ("zalo_oa_secret_key", "changeme", "ZALO_OA_SECRET_KEY"),
        ("api_token", "secret", "WARDBOT_API_TOKEN"),
        ("zalo_oa_id", "default", "ZALO_OA_ID"),
        ("zalo_app_id", " ", "ZALO_APP_ID"),
        ("zalo_app_secret", "<your-app-secret>", "ZALO_APP_SECRET"),
        ("zalo_oa_secret_key", "CHANGEME-before-going-live", "ZALO_OA_SECRET_KEY"),
        ("api_token", "xxxxxxxxxxxxxxxxxxxx", "WARDBOT_API_TOKEN"),
    ],
)
def test_production_refuses_missing_or_placeholder_secrets(
    field: str, value: str, variable: str
) -> None:
    with pytest.raises(ValidationError, match=f"production mode needs real values for: {variable}"):
        _settings(**{**PRODUCTION, field: value})


def test_production_refuses_a_short_api_token() -> None:
    with pytest.raises(ValidationError, match="WARDBOT_API_TOKEN of at least 16 characters"):
        _settings(**{**PRODUCTION, "api_token": "k3Yq9-short"})


def test_development_accepts_anything() -> None:
    assert _settings(zalo_app_secret="changeme").simulator is True


def test_the_app_rate_budget_comes_from_its_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings(_env_file=None).app_rate_per_minute == 4000  # type: ignore[call-arg]
    monkeypatch.setenv("WARDBOT_APP_RATE_PER_MINUTE", "1200")
    assert Settings(_env_file=None).app_rate_per_minute == 1200  # type: ignore[call-arg]
    monkeypatch.setenv("WARDBOT_APP_RATE_PER_MINUTE", "0")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]
