"""Settings from environment variables (pydantic-settings).

Shared settings use the prefix CONGDOAN_ (and NATS_URL as is); per-service ones use
CONGDOAN_<SERVICE>_, e.g. CONGDOAN_REPORTS_DATABASE_URL, CONGDOAN_REPORTS_HTTP_PORT.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_HTTP_PORTS = {"plans": 8081, "reports": 8082, "notify": 8083, "awards": 8084}


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service: str
    nats_url: str = Field(default="nats://127.0.0.1:4222", validation_alias=AliasChoices("NATS_URL", "CONGDOAN_NATS_URL"))
    # NATS credentials (README "Security"): a .creds or nkey seed file, else user + password, else
    # the embedded stack's seed <data_dir>/secrets/nats/<service>.nk. Per service:
    # CONGDOAN_<SERVICE>_NATS_CREDS wins over CONGDOAN_NATS_CREDS.
    nats_creds: Path | None = Field(default=None, validation_alias="CONGDOAN_NATS_CREDS")
    nats_user: str | None = Field(default=None, validation_alias="CONGDOAN_NATS_USER")
    nats_password: str | None = Field(default=None, validation_alias="CONGDOAN_NATS_PASSWORD")
    nats_inbox_prefix: str | None = Field(default=None, validation_alias="CONGDOAN_NATS_INBOX_PREFIX")
    # The shared clock (runtime/clock.py) moves only where this is false: the embedded stack of
    # `make run`, the demo and the tests set it; a service started on its own keeps real time.
    clock_locked: bool = Field(default=True, validation_alias="CONGDOAN_CLOCK_LOCKED")
    data_dir: Path = Field(default=Path("var"), validation_alias="CONGDOAN_DATA_DIR")
    log_level: str = Field(default="INFO", validation_alias="CONGDOAN_LOG_LEVEL")
    log_json: bool | None = Field(default=None, validation_alias="CONGDOAN_LOG_JSON")
    # Traces (runtime/tracing.py): "otlp" exports over OTLP/HTTP to the standard
    # OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT; "none" is off (no spans made at all). Unset, it is
    # "otlp" when one of those endpoints is set, else "none".
    otel_exporter: Literal["none", "otlp"] = Field(default_factory=lambda: _default_exporter(),
                                                   validation_alias="CONGDOAN_OTEL_EXPORTER")
    # Share of new traces kept (a request or event that arrives traced keeps its caller's choice).
    otel_sample_ratio: float = Field(default=1.0, validation_alias="CONGDOAN_OTEL_SAMPLE_RATIO", ge=0, le=1)
    # Per-service (filled from CONGDOAN_<SERVICE>_… in load_settings):
    database_url: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = 0
    instance: str = Field(default_factory=lambda: f"{os.uname().nodename}-{os.getpid()}")
    # Reliability knobs, shared by all services:
    max_deliver: int = Field(default=5, validation_alias="CONGDOAN_MAX_DELIVER", ge=1, le=100)
    nak_delay_s: float = Field(default=1.0, validation_alias="CONGDOAN_NAK_DELAY_S", ge=0)
    ack_wait_s: float = Field(default=30.0, validation_alias="CONGDOAN_ACK_WAIT_S", gt=0)
    fetch_batch: int = Field(default=256, validation_alias="CONGDOAN_FETCH_BATCH", ge=1, le=5000)
    max_message_bytes: int = Field(default=256 * 1024, validation_alias="CONGDOAN_MAX_MESSAGE_BYTES")
    relay_batch: int = Field(default=500, validation_alias="CONGDOAN_RELAY_BATCH", ge=1)
    relay_poll_s: float = Field(default=0.5, validation_alias="CONGDOAN_RELAY_POLL_S", gt=0)
    request_concurrency: int = Field(default=64, validation_alias="CONGDOAN_REQUEST_CONCURRENCY", ge=1)
    # How often /metrics' backlog gauges (consumer lag, dead letters, outbox age, reminders due) are read.
    metrics_interval_s: float = Field(default=5.0, validation_alias="CONGDOAN_METRICS_INTERVAL_S", gt=0)
    shutdown_grace_s: float = Field(default=10.0, validation_alias="CONGDOAN_SHUTDOWN_GRACE_S")
    # JetStream not answering yet at start (a cluster forming, a leader election): waited out this long.
    startup_patience_s: float = Field(default=60.0, validation_alias="CONGDOAN_STARTUP_PATIENCE_S", ge=0)
    # Copies of every stream a NATS cluster keeps: 1 on the embedded server, 3 on a three-node
    # cluster (deploy/compose.yaml, deploy/k8s). All services of an installation must agree.
    stream_replicas: int = Field(default=1, validation_alias="CONGDOAN_STREAM_REPLICAS", ge=1, le=5)
    # Identity (README "Security"). Files default to the embedded stack's <data_dir>/secrets/.
    auth_jwks_file: Path | None = Field(default=None, validation_alias="CONGDOAN_AUTH_JWKS_FILE")
    auth_signing_key_file: Path | None = Field(default=None, validation_alias="CONGDOAN_AUTH_SIGNING_KEY_FILE")
    auth_clients_file: Path | None = Field(default=None, validation_alias="CONGDOAN_AUTH_CLIENTS_FILE")
    auth_issuer: str = Field(default="congdoan", validation_alias="CONGDOAN_AUTH_ISSUER")
    auth_audience: str = Field(default="congdoan", validation_alias="CONGDOAN_AUTH_AUDIENCE")
    auth_access_ttl_s: int = Field(default=900, validation_alias="CONGDOAN_AUTH_ACCESS_TTL_S", ge=60, le=86400)
    auth_refresh_ttl_s: int = Field(default=12 * 3600, validation_alias="CONGDOAN_AUTH_REFRESH_TTL_S", ge=300)
    oidc_issuer: str | None = Field(default=None, validation_alias="CONGDOAN_AUTH_OIDC_ISSUER")
    oidc_jwks_url: str | None = Field(default=None, validation_alias="CONGDOAN_AUTH_OIDC_JWKS_URL")
    oidc_audience: str = Field(default="congdoan", validation_alias="CONGDOAN_AUTH_OIDC_AUDIENCE")
    oidc_person_claim: str = Field(default="congdoan_person_id", validation_alias="CONGDOAN_AUTH_OIDC_PERSON_CLAIM")

    @property
    def nats_servers(self) -> list[str]:
        return nats_servers(self.nats_url)

    @property
    def secrets_dir(self) -> Path:
        return self.data_dir / "secrets"

    @property
    def jwks_path(self) -> Path:
        return self.auth_jwks_file or self.secrets_dir / "jwt" / "jwks.json"

    @property
    def signing_key_path(self) -> Path:
        return self.auth_signing_key_file or self.secrets_dir / "jwt" / "signing-key.pem"

    @property
    def clients_path(self) -> Path:
        return self.auth_clients_file or self.secrets_dir / "clients.json"

    def nats_connect_options(self) -> dict[str, object]:
        from runtime.natsauth import connect_options

        return connect_options(self.service, secrets_dir=self.secrets_dir, creds=self.nats_creds,
                               nats_user=self.nats_user, nats_password=self.nats_password,
                               inbox=self.nats_inbox_prefix)

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{self.service}.db').resolve()}"


def _default_exporter() -> Literal["none", "otlp"]:
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    return "otlp" if endpoint else "none"


def nats_servers(url: str) -> list[str]:
    """NATS_URL may name every node of a cluster, comma-separated: the client starts from any
    that answers (and learns the others from the server)."""
    return [u.strip() for u in url.split(",") if u.strip()]


# Per-service settings that may also come from a file named by CONGDOAN_<SERVICE>_<KEY>_FILE.
FILE_KEYS = ("DATABASE_URL", "NATS_PASSWORD")


def load_settings(service: str, **overrides: object) -> ServiceSettings:
    prefix = f"CONGDOAN_{service.upper()}_"
    per_service: dict[str, object] = {}
    for key in ("DATABASE_URL", "HTTP_HOST", "HTTP_PORT", "INSTANCE", "NATS_CREDS", "NATS_USER", "NATS_PASSWORD"):
        if (value := os.environ.get(prefix + key)) is not None:
            per_service[key.lower()] = value
        elif key in FILE_KEYS and (path := os.environ.get(prefix + key + "_FILE")):
            # A secret mounted as a file (a container's /run/secrets/…): its content, stripped.
            per_service[key.lower()] = Path(path).read_text(encoding="utf-8").strip()
    per_service.setdefault("http_port", DEFAULT_HTTP_PORTS.get(service, 0))
    return ServiceSettings(service=service, **{**per_service, **overrides})  # type: ignore[arg-type]
