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
    database_connect_timeout_seconds: float = Field(5.0, gt=0, le=300, description="how long "
                                                    "opening a PostgreSQL connection may take")
    database_statement_timeout_seconds: float = Field(10.0, gt=0, le=3600, description="how "
                                                      "long one PostgreSQL statement may run")
    retry_after_seconds: int = Field(5, ge=1, le=3600, description="the Retry-After of a 503 "
                                     "answered while the database is unavailable")
    embedded_worker: bool = Field(True, description="run the timer worker inside `serve`")
    worker_poll_seconds: float = Field(2.0, gt=0, le=300)
    worker_stale_seconds: float = Field(60.0, gt=0, le=86400, description="/health says "
                                        "degraded when a worker has not polled successfully "
                                        "for this long")
    cookie_secure: bool = Field(True, description="send the session cookie over HTTPS only "
                                                  "(browsers treat localhost as secure)")
    calendar_region: str = Field("ENG", description="bank holidays: ENG, WLS, SCT or NIR")
    board_name: str = Field("Safeguarding Children Board", min_length=1, max_length=120,
                            description="the Board's name, in every page's header")
    max_data_depth: int = Field(32, ge=2, le=200, description="how deeply the objects and "
                                "lists of a request may nest (422 past it)")
    form_validation_seconds: float = Field(1.0, gt=0, le=60, description="how long checking "
                                           "one form submission may take (422 past it)")
    script_memory_bytes: int = Field(64 * 1024 * 1024, ge=1024 * 1024, description="memory "
                                     "one script, condition or DMN expression may add")
    sign_in_free_failures: int = Field(5, ge=1, description="failed sign-ins of one account "
                                       "name before each further attempt must wait")
    sign_in_lock_failures: int = Field(10, ge=1, description="failed sign-ins of one account "
                                       "name that lock it for sign_in_lock_minutes")
    sign_in_address_free_failures: int = Field(20, ge=1, description="the same, per client "
                                               "address (any names)")
    sign_in_address_lock_failures: int = Field(50, ge=1)
    sign_in_first_delay_seconds: float = Field(2.0, gt=0, le=3600, description="the wait "
                                               "after the first failure past the free ones; "
                                               "it doubles with each further failure")
    sign_in_lock_minutes: float = Field(15.0, gt=0, le=1440, description="how long a lock "
                                        "lasts; failures are forgotten after as long without one")

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
