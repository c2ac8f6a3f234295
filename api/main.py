"""The FastAPI app factory: settings in, an app with its database, files and worker pools out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import metadata

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from api.dashboard.routes import install as install_dashboard
from api.deps import Services, known_query_only, require_api_key
from api.errors import ERROR_RESPONSES, install_error_handlers
from api.jobs import fail_interrupted_jobs
from api.limits import BodySizeLimit, BodyTooLarge, body_too_large_handler
from api.retention import keep_compacting
from api.routes import allocations, datasets, health, jobs, landscapes, runs
from api.settings import Settings
from api.store import Database, DataDir
from api.workers import WorkerPool


class StartupError(Exception):
    """The service cannot start with these settings: one line saying why, and the exit code
    `clvbid serve` ends with (3: data directory, 4: database)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def check_storage(settings: Settings) -> None:
    """Open the data directory and the database (migrating it) once before serving, so a
    directory that is a file or read-only, or an unreachable database, is one StartupError
    instead of a traceback from inside the server."""
    try:
        DataDir(settings.data_dir)
    except OSError as error:
        raise StartupError(
            f"cannot use the data directory {settings.data_dir}: {error.strerror}; "
            "set CLVBID_DATA_DIR to a writable directory",
            exit_code=3,
        ) from None
    try:
        Database(settings.database_url).close()
    except (SQLAlchemyError, OSError) as error:
        url = make_url(settings.database_url).render_as_string(hide_password=True)
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise StartupError(
            f"cannot open the database {url}: {reason}; check CLVBID_DATABASE_URL",
            exit_code=4,
        ) from None


def open_services(settings: Settings) -> Services:
    """Connect and migrate the database, prepare the data directory, start the worker pools."""
    database = Database(settings.database_url)
    fail_interrupted_jobs(database)
    return Services(
        settings=settings,
        database=database,
        data_dir=DataDir(settings.data_dir),
        solvers=WorkerPool(settings.workers),
        analysts=WorkerPool(settings.analysis_workers),
        fitters=WorkerPool(settings.job_workers),
    )


def close_services(services: Services) -> None:
    """Stop the worker pools and release the database connections."""
    services.solvers.close()
    services.analysts.close()
    services.fitters.close()
    services.database.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    """The clvbid HTTP service; storage and workers open when the app starts (its lifespan)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = open_services(settings)
        app.state.services = services
        # Workers start in the background: /healthz answers while the forkserver imports the
        # solver's stack, and a request that comes first waits for its pool's workers. The
        # run retention pass (when configured) runs now and every few minutes, in a thread.
        background = [
            asyncio.create_task(pool.start())
            for pool in (services.solvers, services.analysts, services.fitters)
        ]
        if settings.run_retention_days is not None or settings.run_retention_count is not None:
            background.append(
                asyncio.create_task(
                    keep_compacting(
                        services.database,
                        settings.run_retention_days,
                        settings.run_retention_count,
                    )
                )
            )
        try:
            if settings.load_demo:
                await datasets.load_demo_dataset(services)
            yield
        finally:
            for task in background:
                task.cancel()
            close_services(services)

    app = FastAPI(
        title="clvbid",
        version=metadata.version("clvbid"),
        description="Ad budgets and bid multipliers driven by customer lifetime value.",
        lifespan=lifespan,
        generate_unique_id_function=lambda route: route.name,
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["X-API-Key", "Content-Type"],
            expose_headers=["Location"],
        )
    app.add_exception_handler(BodyTooLarge, body_too_large_handler)
    install_error_handlers(app)
    # The API refuses query parameters it does not take; the dashboard's pages are lenient.
    strict = Depends(known_query_only)
    app.include_router(health.router, dependencies=[strict])
    protected = {"dependencies": [Depends(require_api_key), strict], "responses": ERROR_RESPONSES}
    for resource in (allocations, datasets, jobs, landscapes, runs):
        app.include_router(resource.router, prefix="/v1", **protected)
    install_dashboard(app)
    return app
