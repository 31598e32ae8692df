"""Settings: the only module that knows environment variable names.

Built once at the composition root (`app.main.create_app`, `app.cli`) and passed down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_PLACEHOLDERS = {"", "changeme", "change-me", "secret", "xxx", "test"}


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


class Settings(BaseSettings):
    """Every knob of the service. Field aliases are the public environment variable names."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    environment: Literal["development", "production"] = Field(
        "development", validation_alias=_env("WARDBOT_ENV")
    )

    # Zalo (reference §0, §2, §6). With no credentials the service runs as a local simulator.
    zalo_app_id: str = Field("", validation_alias=_env("ZALO_APP_ID"))
    zalo_oa_id: str = Field("default", validation_alias=_env("ZALO_OA_ID"))
    """Keys the stored token pair; set it when one deployment serves several OAs."""
    zalo_app_secret: SecretStr = Field(SecretStr(""), validation_alias=_env("ZALO_APP_SECRET"))
    zalo_oa_secret_key: SecretStr = Field(
        SecretStr(""), validation_alias=_env("ZALO_OA_SECRET_KEY")
    )
    zalo_access_token: SecretStr = Field(SecretStr(""), validation_alias=_env("ZALO_ACCESS_TOKEN"))
    zalo_refresh_token: SecretStr = Field(
        SecretStr(""), validation_alias=_env("ZALO_REFRESH_TOKEN")
    )
    zalo_api_base_url: str = Field(
        "https://openapi.zalo.me", validation_alias=_env("ZALO_API_BASE_URL")
    )
    zalo_oauth_base_url: str = Field(
        "https://oauth.zaloapp.com", validation_alias=_env("ZALO_OAUTH_BASE_URL")
    )
    zalo_timeout_seconds: float = Field(10.0, validation_alias=_env("ZALO_TIMEOUT_SECONDS"))

    database_url: str = Field("sqlite:///./wardbot.db", validation_alias=_env("DATABASE_URL"))
    procedures_path: Path = Field(Path("procedures.yaml"), validation_alias=_env("WARDBOT_PROCEDURES"))
    intents_path: Path = Field(Path("intents"), validation_alias=_env("WARDBOT_INTENTS"))

    api_token: SecretStr = Field(SecretStr(""), validation_alias=_env("WARDBOT_API_TOKEN"))
    send_rate: float = Field(10.0, gt=0, validation_alias=_env("WARDBOT_SEND_RATE"))

    # Dialogue
    conversation_ttl_minutes: int = Field(30, ge=1, validation_alias=_env("WARDBOT_CONVERSATION_TTL"))
    staff_takeover_minutes: int = Field(
        60, ge=1, validation_alias=_env("WARDBOT_STAFF_TAKEOVER_MINUTES")
    )
    max_message_chars: int = Field(4000, ge=100, validation_alias=_env("WARDBOT_MAX_MESSAGE_CHARS"))

    @property
    def simulator(self) -> bool:
        """No Zalo credentials: outgoing messages are recorded, not sent."""
        return not (self.zalo_app_id and self.zalo_access_token.get_secret_value())

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if self.environment != "production":
            return self
        required = {
            "ZALO_APP_ID": self.zalo_app_id,
            "ZALO_APP_SECRET": self.zalo_app_secret.get_secret_value(),
            "ZALO_OA_SECRET_KEY": self.zalo_oa_secret_key.get_secret_value(),
            "ZALO_REFRESH_TOKEN": self.zalo_refresh_token.get_secret_value(),
            "WARDBOT_API_TOKEN": self.api_token.get_secret_value(),
        }
        bad = [name for name, value in required.items() if value.strip().lower() in _PLACEHOLDERS]
        if bad:
            raise ValueError(f"production mode needs real values for: {', '.join(bad)}")
        return self
