"""The FastAPI app factory: settings in, an app with its database, files and worker pools out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import metadata

from fastapi import Depends, FastAPI

from api.dashboard.routes import install as install_dashboard
from api.deps import Services, require_api_key
from api.errors import ERROR_RESPONSES, install_error_handlers
from api.jobs import fail_interrupted_jobs
from api.limits import BodySizeLimit, BodyTooLarge, body_too_large_handler
from api.routes import allocations, datasets, health, jobs, runs
from api.settings import Settings
from api.store import Database, DataDir
from api.workers import WorkerPool


def open_services(settings: Settings) -> Services:
    """Connect and migrate the database, prepare the data directory, start the worker pools."""
    database = Database(settings.database_url)
    fail_interrupted_jobs(database)
    return Services(
        settings=settings,
        database=database,
        data_dir=DataDir(settings.data_dir),
        solvers=WorkerPool(settings.workers),
        fitters=WorkerPool(settings.job_workers),
    )


def close_services(services: Services) -> None:
    """Stop the worker pools and release the database connections."""
    services.solvers.close()
    services.fitters.close()
    services.database.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    """The clvbid HTTP service; storage and workers open when the app starts (its lifespan)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = open_services(settings)
        app.state.services = services
        try:
            await services.solvers.start()
            await services.fitters.start()
            if settings.load_demo:
                await datasets.load_demo_dataset(services)
            yield
        finally:
            close_services(services)

    app = FastAPI(
        title="clvbid",
        version=metadata.version("clvbid"),
        description="Ad budgets and bid multipliers driven by customer lifetime value.",
        lifespan=lifespan,
        generate_unique_id_function=lambda route: route.name,
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes)
    app.add_exception_handler(BodyTooLarge, body_too_large_handler)
    install_error_handlers(app)
    app.include_router(health.router)
    protected = {"dependencies": [Depends(require_api_key)], "responses": ERROR_RESPONSES}
    for resource in (allocations, datasets, jobs, runs):
        app.include_router(resource.router, prefix="/v1", **protected)
    install_dashboard(app)
    return app
