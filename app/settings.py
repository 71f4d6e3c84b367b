"""All configuration, read from REVIEWFLOW_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_URL = "sqlite:///var/reviewflow.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REVIEWFLOW_", extra="ignore")

    environment: str = Field("development", description="development, test or production")
    database_url: str = DEFAULT_SQLITE_URL
    processes_dir: Path = Path("processes")
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_bytes: int = 5 * 1024 * 1024
    max_request_bytes: int = 1024 * 1024
    spec_cache_size: int = 256
    page_size_limit: int = 500
    sqlite_busy_timeout_seconds: float = 30.0
    embedded_worker: bool = Field(True, description="run the timer worker inside `serve`")
    worker_poll_seconds: float = Field(2.0, gt=0, le=300)
    cookie_secure: bool = Field(True, description="send the session cookie over HTTPS only "
                                                  "(browsers treat localhost as secure)")
    calendar_region: str = Field("ENG", description="bank holidays: ENG, WLS, SCT or NIR")

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.environment == "production" and self.database_url.startswith("sqlite"):
            raise ValueError("REVIEWFLOW_DATABASE_URL must name PostgreSQL in production")
        return self

    @property
    def retention_file(self) -> Path:
        """How long case data is kept after closure, by route."""
        return self.processes_dir / "retention.json"

    @property
    def clocks_file(self) -> Path:
        """The statutory clocks and commissioning deadlines the routes read."""
        return self.processes_dir / "clocks.json"

    @property
    def agencies_file(self) -> Path:
        """The Board's agency register: every agency field takes an id from it."""
        return self.processes_dir / "agencies.json"


@lru_cache
def get_settings() -> Settings:
    return Settings()
