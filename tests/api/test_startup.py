"""`clvbid serve` refuses storage it cannot use in one line with an exit code, never a
traceback; the app it serves imports no data stack; CORS is off unless origins are configured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings

APP_PROBE = """
import json, sys, tempfile
from pathlib import Path
from api.main import create_app
from api.settings import Settings
from api.store import Database
folder = Path(tempfile.mkdtemp())
create_app(Settings(data_dir=folder, api_keys=("k",))).openapi()
Database(f"sqlite:///{folder / 'clvbid.db'}").close()
Database(f"sqlite:///{folder / 'clvbid.db'}").close()
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_the_served_app_imports_no_data_stack() -> None:
    """What `clvbid serve` imports before it answers /healthz (the app, its OpenAPI schema,
    the database opened twice as at start-up) holds none of the analysis libraries: the
    routes and tasks import them in the workers, so the service is healthy in seconds."""
    done = subprocess.run(
        [sys.executable, "-c", APP_PROBE], capture_output=True, text=True, timeout=600, check=True
    )
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert loaded & {"pandas", "scipy", "sklearn", "matplotlib", "pyomo", "duckdb"} == set()


def _serve(tmp_path: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    """`clvbid serve` with these CLVBID_* variables; it must exit on its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLVBID_")} | environment
    command = [str(Path(sys.executable).parent / "clvbid"), "serve", "--no-demo", "--port", "1"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize(
    ("variable", "value", "code", "words"),
    [
        ("CLVBID_DATA_DIR", "{file}", 3, "cannot use the data directory"),
        ("CLVBID_DATABASE_URL", "postgresql+psycopg://u:secret@127.0.0.1:9/x", 4, "u:***@"),
        ("CLVBID_WORKERS", "0", 2, "CLVBID_WORKERS"),
    ],
)
def test_start_up_errors_are_one_line_with_an_exit_code(
    tmp_path: Path, variable: str, value: str, code: int, words: str
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    environment = {"CLVBID_DATA_DIR": str(tmp_path / "data")}
    environment[variable] = value.format(file=a_file)
    done = _serve(tmp_path, **environment)
    assert done.returncode == code, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert words in lines[0]
    assert "secret" not in done.stderr + done.stdout


@pytest.mark.parametrize("origins", [(), ("https://app.example.com",)])
def test_cors_only_for_configured_origins(tmp_path: Path, origins: tuple[str, ...]) -> None:
    settings = Settings(data_dir=tmp_path, api_keys=("k",), cors_origins=origins)
    with TestClient(create_app(settings)) as client:
        response = client.options(
            "/v1/datasets",
            headers={
                "Origin": "https://app.example.com",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "X-API-Key",
            },
        )
    allowed = response.headers.get("access-control-allow-origin")
    assert allowed == (origins[0] if origins else None)
