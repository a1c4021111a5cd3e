"""Settings of the web front-end, from the environment (README "Configuration")."""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PORT = 8080


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    nats_url: str = Field(default="nats://127.0.0.1:4223", validation_alias=AliasChoices("NATS_URL", "CONGDOAN_NATS_URL"))
    # NATS credentials of the web user (README "Security"): CONGDOAN_WEB_NATS_CREDS (a .creds or nkey
    # seed file), else CONGDOAN_NATS_USER/_PASSWORD, else the embedded stack's <data_dir>/secrets/nats/web.nk.
    nats_creds: Path | None = Field(default=None, validation_alias=AliasChoices("CONGDOAN_WEB_NATS_CREDS",
                                                                                 "CONGDOAN_NATS_CREDS"))
    nats_user: str | None = Field(default=None, validation_alias="CONGDOAN_NATS_USER")
    nats_password: str | None = Field(default=None, validation_alias="CONGDOAN_NATS_PASSWORD")
    nats_inbox_prefix: str | None = Field(default=None, validation_alias="CONGDOAN_NATS_INBOX_PREFIX")
    # As for the services: the shared demo clock is followed only where this is false.
    clock_locked: bool = Field(default=True, validation_alias="CONGDOAN_CLOCK_LOCKED")
    data_dir: Path = Field(default=Path("var"), validation_alias="CONGDOAN_DATA_DIR")
    http_host: str = Field(default="127.0.0.1", validation_alias="CONGDOAN_WEB_HTTP_HOST")
    http_port: int = Field(default=DEFAULT_PORT, validation_alias="CONGDOAN_WEB_HTTP_PORT")
    log_level: str = Field(default="INFO", validation_alias="CONGDOAN_LOG_LEVEL")
    log_json: bool | None = Field(default=None, validation_alias="CONGDOAN_LOG_JSON")
    # Cookies: Secure behind TLS (a reverse proxy terminating https sets this).
    cookie_secure: bool = Field(default=False, validation_alias="CONGDOAN_WEB_COOKIE_SECURE")
    # A session ends after this long without a request, and at the latest when its refresh
    # token would (CONGDOAN_AUTH_REFRESH_TTL_S of plans).
    session_idle_s: float = Field(default=1800, validation_alias="CONGDOAN_WEB_SESSION_IDLE_S", gt=0)
    session_max_s: float = Field(default=12 * 3600, validation_alias="CONGDOAN_WEB_SESSION_MAX_S", gt=0)
    max_sessions: int = Field(default=20_000, validation_alias="CONGDOAN_WEB_MAX_SESSIONS", ge=1)
    # Login attempts per client address per minute (plans adds its own per-user backoff).
    login_per_minute: int = Field(default=10, validation_alias="CONGDOAN_WEB_LOGIN_PER_MINUTE", ge=1)
    request_timeout_s: float = Field(default=30, validation_alias="CONGDOAN_WEB_REQUEST_TIMEOUT_S", gt=0)
    # Keys the login form's CSRF tokens (before a session exists); random per process if unset.
    secret: str = Field(default_factory=lambda: secrets.token_urlsafe(32), validation_alias="CONGDOAN_WEB_SECRET")
    # Where the services' exports can be read from (the embedded stack shares CONGDOAN_DATA_DIR);
    # unset with a data_dir that holds no exports folder: downloads are refused.
    exports_dir: Path | None = Field(default=None, validation_alias="CONGDOAN_WEB_EXPORTS_DIR")
    sse_keepalive_s: float = Field(default=20, validation_alias="CONGDOAN_WEB_SSE_KEEPALIVE_S", gt=0)

    def nats_connect_options(self) -> dict[str, object]:
        from runtime.natsauth import WEB, connect_options

        return connect_options(WEB, secrets_dir=self.data_dir / "secrets", creds=self.nats_creds,
                               nats_user=self.nats_user, nats_password=self.nats_password,
                               inbox=self.nats_inbox_prefix)

    @property
    def exports_path(self) -> Path:
        return (self.exports_dir or self.data_dir / "exports").resolve()
