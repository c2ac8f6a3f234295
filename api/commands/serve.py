"""`clvbid serve`: run the HTTP service with uvicorn, the CDNOW demo dataset loaded."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from api.commands.failing import fail
from api.settings import Settings

console = Console()


def local_api_key(data_dir: Path) -> str:
    """The key in `<data dir>/api-key`, created (readable by the owner only) on first use."""
    path = data_dir / "api-key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(24) + "\n")
    return path.read_text().strip()


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[
        bool, typer.Option(help="Load the CDNOW demo dataset when the store has no dataset.")
    ] = True,
) -> None:
    """Start the HTTP API (settings from CLVBID_* variables; see docs/api.md)."""
    import uvicorn
    from sqlalchemy.engine import make_url

    from api.main import StartupError, check_storage, create_app

    try:
        settings = Settings(load_demo=demo)
    except ValidationError as error:
        problems = "; ".join(
            f"CLVBID_{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors()
        )
        raise fail(f"invalid settings: {problems}", code=2) from None
    try:
        check_storage(settings)
        if not settings.api_keys:
            key = local_api_key(settings.data_dir)
    except StartupError as error:
        raise fail(str(error), code=error.exit_code) from None
    if not settings.api_keys:
        key_file = settings.data_dir / "api-key"
        settings = settings.model_copy(update={"api_keys": (key,)})
        console.print(
            f"No CLVBID_API_KEYS set: using the key in {key_file} "
            f'(curl -H "X-API-Key: $(cat {key_file})" ...)'
        )
    database = make_url(settings.database_url).render_as_string(hide_password=True)
    console.print(f"Data in {settings.data_dir.resolve()}, database {database}")
    uvicorn.run(create_app(settings), host=host, port=port)
