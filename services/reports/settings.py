"""Settings of the reports service beyond the runtime's, from CONGDOAN_REPORTS_* variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.reports.domain.model import DEFAULT_REMINDER_DAYS
from services.reports.service_layer.context import Config


def _days(text: str) -> tuple[int, ...]:
    if not text.strip():
        return DEFAULT_REMINDER_DAYS
    try:
        days = tuple(sorted({int(x) for x in text.split(",") if x.strip()}, reverse=True))
    except ValueError:
        raise ValueError(f"CONGDOAN_REPORTS_REMINDER_DAYS must be whole days separated by commas, got {text!r}") from None
    if any(d < 0 or d > 366 for d in days):
        raise ValueError(f"reminder days must be 0..366, got {days}")
    return days


class ReportsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONGDOAN_REPORTS_", extra="ignore")

    # the form of the requirements that plans' report items open
    default_form: str = "bc-01-kl-tw"
    # days before a report's deadline on which the unit is reminded, e.g. "7,3,1"
    reminder_days: str = ",".join(str(d) for d in DEFAULT_REMINDER_DAYS)
    # where consolidated DOCX/XLSX files are written (default <data dir>/exports)
    exports_dir: Path | None = None

    @field_validator("reminder_days")
    @classmethod
    def _valid_days(cls, v: str) -> str:
        _days(v)
        return v

    def config(self, data_dir: Path) -> Config:
        return Config(exports_dir=Path(self.exports_dir or Path(data_dir) / "exports").resolve(),
                      default_form_id=self.default_form or "bc-01-kl-tw", reminder_days=_days(self.reminder_days))
