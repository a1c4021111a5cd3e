"""Settings of the plans service beyond the runtime's, from CONGDOAN_PLANS_* variables."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.plans.domain.plans import parse_offsets
from services.plans.service_layer.common import PlansConfig


class PlansSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONGDOAN_PLANS_", extra="ignore")

    # days before a task's deadline on which its unit is reminded, e.g. "30,7,1"
    deadline_offsets_days: str = "30,7,1"
    # the largest CSV a directory import may send
    max_import_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)

    @field_validator("deadline_offsets_days")
    @classmethod
    def _offsets(cls, v: str) -> str:
        parse_offsets(v)  # a typo stops the start instead of reminding no one
        return v

    def config(self) -> PlansConfig:
        return PlansConfig(deadline_offsets=parse_offsets(self.deadline_offsets_days),
                           max_import_bytes=self.max_import_bytes)
