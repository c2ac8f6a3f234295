"""Service settings: one `BaseSettings` class read from `CLVBID_*` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from api.workspaces import split_key


class Settings(BaseSettings):
    """Everything the HTTP service can be told: storage, keys, limits and worker counts.

    Every field reads `CLVBID_<FIELD>` from the environment (for example `CLVBID_API_KEYS=k1,k2`,
    `CLVBID_DATABASE_URL=postgresql+psycopg://user@127.0.0.1/clvbid`).
    """

    model_config = SettingsConfigDict(env_prefix="CLVBID_", frozen=True, extra="ignore")

    data_dir: Path = Field(
        default=Path("out/service"),
        description="Directory holding uploaded datasets, fitted outputs and the SQLite file.",
    )
    database_url: str = Field(
        default="",
        validate_default=True,
        repr=False,
        description="SQLAlchemy URL; empty means a SQLite file `clvbid.db` in the data directory.",
    )
    api_keys: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        repr=False,
        description=(
            "Accepted `X-API-Key` values as `workspace:key` (a bare key belongs to the "
            "`default` workspace), comma-separated in the environment: each workspace sees "
            "only its own datasets, jobs and runs."
        ),
    )
    max_upload_bytes: int = Field(
        default=200 * 2**20, gt=0, description="Largest request body (uploads included)."
    )
    solver_time_limit_seconds: float = Field(
        default=10.0, gt=0, description="Solver time limit of a request that names none."
    )
    solver_time_limit_max_seconds: float = Field(
        default=60.0, gt=0, description="Largest solver time limit a request may ask for."
    )
    solver_mip_gap: float = Field(
        default=1e-3,
        ge=0,
        lt=1,
        description=(
            "Relative MIP gap of a request that names none: the plan is proven within this "
            "share of the best possible objective. 0.1% answers a 100-segment problem in "
            "about 13 ms of solver CPU; 1e-4 needs branch and bound there (about 80 ms)."
        ),
    )
    solver_grace_seconds: float = Field(
        default=5.0,
        ge=0,
        description="Extra time past the solver's own limit before its worker is stopped.",
    )
    workers: int = Field(default=2, ge=1, description="Worker processes for allocations.")
    analysis_workers: int = Field(
        default=1,
        ge=1,
        description="Worker processes for uploads, dashboards, lookalikes and movers.",
    )
    job_workers: int = Field(
        default=1, ge=1, description="Worker processes for model fits and scenario runs."
    )
    job_timeout_seconds: float = Field(
        default=1800.0, gt=0, description="A background job running longer is stopped."
    )
    max_generator_customers: int = Field(
        default=200_000,
        ge=100,
        description=(
            "Largest `customers` (and `prospects`) a scenario's generator source may ask for; "
            "a generated customer costs about 1 kB of worker memory per step."
        ),
    )
    max_upload_rows: int = Field(
        default=5_000_000, gt=0, description="Most rows an uploaded orders file may have."
    )
    max_segments: int = Field(
        default=5_000, gt=0, description="Most segments an allocation problem may have."
    )
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description=(
            "Origins a browser may call the API from (`https://app.example.com`), "
            "comma-separated; none by default, so no cross-origin call is allowed."
        ),
    )
    run_retention_days: float | None = Field(
        default=None,
        gt=0,
        description=(
            "Allocation runs older than this many days keep only their summary (the problem "
            "and the plan are dropped); unset keeps them whole."
        ),
    )
    run_retention_count: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Each workspace's newest this many allocation runs stay whole, older ones keep only "
            "their summary; unset keeps them all whole."
        ),
    )
    load_demo: bool = Field(
        default=False, description="Load the CDNOW demo dataset at startup when none is stored."
    )

    @field_validator("api_keys", "cors_origins", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        """Accept `a,b` from the environment as well as a list."""
        if isinstance(value, str):
            return tuple(key.strip() for key in value.split(",") if key.strip())
        return value

    @field_validator("api_keys")
    @classmethod
    def _keys_name_workspaces(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        """Every entry is `workspace:key` with a valid workspace name, or a bare key."""
        for entry in value:
            split_key(entry)
        return value

    @field_validator("database_url")
    @classmethod
    def _default_database(cls, value: str, info: ValidationInfo) -> str:
        """An empty URL means the SQLite file under the data directory."""
        if value:
            return value
        data_dir = Path(info.data.get("data_dir", Path("out/service")))
        return f"sqlite:///{(data_dir / 'clvbid.db').resolve()}"

    @model_validator(mode="after")
    def _limits_in_order(self) -> Settings:
        """The default time limit must be one a request could ask for itself."""
        if self.solver_time_limit_seconds > self.solver_time_limit_max_seconds:
            raise ValueError(
                "solver_time_limit_seconds must not exceed solver_time_limit_max_seconds"
            )
        return self
