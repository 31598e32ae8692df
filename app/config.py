"""Settings: the only module that knows environment variable names.

Built once at the composition root (`app.main.create_app`, `app.cli`) and passed down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_PLACEHOLDERS = {"", "secret", "password", "test", "none", "null"}
_PLACEHOLDER_MARKS = ("changeme", "change-me", "change_me", "placeholder", "your-", "your_", "<")
"""Left over from a template (.env.example, a README): "<your-app-secret>", "changeme123"."""

API_TOKEN_MIN_CHARS = 16
"""The API token guards the admin and staff API: long enough not to be guessed."""


def _is_placeholder(value: str) -> bool:
    folded = value.strip().lower()
    return (
        folded in _PLACEHOLDERS
        or folded == UNSET_OA_ID
        or any(mark in folded for mark in _PLACEHOLDER_MARKS)
        or len(set(folded)) == 1  # "xxxxxxxx", "00000000"
    )


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


UNSET_OA_ID = "default"
"""ZALO_OA_ID's value when it is not set (the key of the stored token pair then)."""


class Settings(BaseSettings):
    """Every knob of the service. Field aliases are the public environment variable names."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    environment: Literal["development", "production"] = Field(
        "development", validation_alias=_env("WARDBOT_ENV")
    )

    # Zalo (reference §0, §2, §6). With no credentials the service runs as a local simulator.
    zalo_app_id: str = Field("", validation_alias=_env("ZALO_APP_ID"))
    zalo_oa_id: str = Field(UNSET_OA_ID, validation_alias=_env("ZALO_OA_ID"))
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
    procedures_path: Path = Field(
        Path("procedures.yaml"), validation_alias=_env("WARDBOT_PROCEDURES")
    )
    intents_path: Path = Field(Path("intents"), validation_alias=_env("WARDBOT_INTENTS"))
    wards_path: Path | None = Field(None, validation_alias=_env("WARDBOT_WARDS"))
    """A folder with one `<slug>.yaml` per ward (its OA id and profile): one deployment for
    many wards' OAs. Unset: the one ward of procedures.yaml, on ZALO_OA_ID."""

    api_token: SecretStr = Field(SecretStr(""), validation_alias=_env("WARDBOT_API_TOKEN"))
    app_rate_per_minute: int = Field(
        4000, ge=10, validation_alias=_env("WARDBOT_APP_RATE_PER_MINUTE")
    )
    """Zalo requests a minute for the whole app, shared by every process and every OA;
    replies to residents come before announcements (app.zalo.budget)."""
    send_rate: float | None = Field(None, gt=0, validation_alias=_env("WARDBOT_SEND_RATE"))
    """Optional cap on one process's announcement messages a second. Unset, announcements
    use whatever the app's budget leaves after replies."""
    run_worker: bool = Field(True, validation_alias=_env("WARDBOT_RUN_WORKER"))
    """`wardbot serve` also runs the background work (answering residents, announcements,
    token refresh). Off: the web process only verifies and records webhook events, and a
    `wardbot worker` process (or several) does the rest."""
    inbox_poll_seconds: float = Field(
        1.0, ge=0, validation_alias=_env("WARDBOT_INBOX_POLL_SECONDS")
    )
    """How often a process running the background work looks in the database for events to
    answer (recorded by any process) and for claims a crashed process left; 0 turns it off."""
    booking_reminder_seconds: float = Field(
        300.0, ge=0, validation_alias=_env("WARDBOT_BOOKING_REMINDER_SECONDS")
    )
    """How often the background work looks for visits to remind residents of (the evening
    before, at the ward's `booking.reminder_hour`); 0 turns reminders off."""
    catalogue_poll_seconds: float = Field(
        3.0, ge=0, validation_alias=_env("WARDBOT_CATALOGUE_POLL_SECONDS")
    )
    """How often a process looks for a new catalogue version in the database (and, with the
    file watch on, for edits of procedures.yaml and intents/); 0 turns it off."""
    catalogue_watch_files: bool | None = Field(
        None, validation_alias=_env("WARDBOT_CATALOGUE_WATCH_FILES")
    )
    """Import procedures.yaml and intents/ as a new version when they change. Unset: on in
    development (and the simulator), off in production, where the files are only the seed."""

    # Dialogue
    conversation_ttl_minutes: int = Field(
        30, ge=1, validation_alias=_env("WARDBOT_CONVERSATION_TTL")
    )
    staff_takeover_minutes: int = Field(
        60, ge=1, validation_alias=_env("WARDBOT_STAFF_TAKEOVER_MINUTES")
    )
    max_message_chars: int = Field(4000, ge=100, validation_alias=_env("WARDBOT_MAX_MESSAGE_CHARS"))

    # Production operation (issue 6)
    token_refresh_interval_seconds: float = Field(
        60.0, gt=0, validation_alias=_env("WARDBOT_TOKEN_REFRESH_INTERVAL")
    )
    """How often the background refresher checks the token's expiry."""
    webhook_max_age_minutes: int = Field(
        180, ge=0, validation_alias=_env("WARDBOT_WEBHOOK_MAX_AGE_MINUTES")
    )
    """Replay window (0: off): older events are acknowledged but not handled. Zalo re-sends a
    failed event with the SAME body and timestamp after 30 s, 5, 15, 30 min and 1 h (reference
    §1.2; about 1 h 51 min in all if those are intervals), so the window must outlast that;
    replays inside it are duplicates, which de-duplication on the event key already drops."""
    webhook_max_skew_minutes: int = Field(
        15, ge=0, validation_alias=_env("WARDBOT_WEBHOOK_MAX_SKEW_MINUTES")
    )
    """How far in the future a timestamp may be (clock skew) before the event is refused."""
    resident_messages_per_minute: int = Field(
        20, ge=1, validation_alias=_env("WARDBOT_RESIDENT_MESSAGES_PER_MINUTE")
    )
    """Above this, a resident gets one "please slow down" and no replies until it passes."""
    dossier_status_provider: str = Field(
        "", validation_alias=_env("WARDBOT_DOSSIER_STATUS_PROVIDER")
    )
    """The province's dossier status system: `package.module:factory` returning an
    app.dossiers.status.DossierStatusProvider. Empty: staff enter statuses in the console."""
    dossier_poll_minutes: float = Field(
        30.0, gt=0, validation_alias=_env("WARDBOT_DOSSIER_POLL_MINUTES")
    )
    """How often followed dossiers are looked up in the province's system (with a provider)."""
    zalo_oauth_redirect_uri: str = Field("", validation_alias=_env("ZALO_OAUTH_REDIRECT_URI"))
    """The OA callback URL registered in the Zalo app console (…/zalo/oauth/callback)."""

    @property
    def own_oa_id(self) -> str | None:
        """ZALO_OA_ID, or None when unset: the process then speaks for whichever single OA
        its webhook events come from."""
        return None if self.zalo_oa_id == UNSET_OA_ID else self.zalo_oa_id

    @property
    def watch_catalogue_files(self) -> bool:
        if self.catalogue_watch_files is not None:
            return self.catalogue_watch_files
        return self.environment == "development"

    @property
    def simulator(self) -> bool:
        """No Zalo credentials: outgoing messages are recorded, not sent.

        An app id with an app secret is a real deployment even before its first token: the
        pair may come later from `wardbot zalo connect`, and replies are held until then.
        """
        has_token = bool(self.zalo_access_token.get_secret_value())
        can_connect = bool(self.zalo_app_secret.get_secret_value())
        return not (self.zalo_app_id and (has_token or can_connect))

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if self.environment != "production":
            return self
        # The token pair is not required: it may come later from `wardbot zalo connect`, which
        # needs the running service for its callback (replies are held until then).
        required = {
            "ZALO_APP_ID": self.zalo_app_id,
            "ZALO_OA_ID": self.zalo_oa_id,
            "ZALO_APP_SECRET": self.zalo_app_secret.get_secret_value(),
            "ZALO_OA_SECRET_KEY": self.zalo_oa_secret_key.get_secret_value(),
            "WARDBOT_API_TOKEN": self.api_token.get_secret_value(),
        }
        bad = [name for name, value in required.items() if _is_placeholder(value)]
        if bad:
            raise ValueError(f"production mode needs real values for: {', '.join(bad)}")
        if len(self.api_token.get_secret_value().strip()) < API_TOKEN_MIN_CHARS:
            raise ValueError(
                f"production mode needs a WARDBOT_API_TOKEN of at least {API_TOKEN_MIN_CHARS} "
                "characters, e.g. the output of: "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return self
