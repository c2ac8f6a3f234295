"""`clvbid --help` and argument errors answer without importing the heavy libraries, and the
command list says what each command's own help says."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from api.cli import COMMANDS, load_command

HEAVY = ("pandas", "scipy", "sklearn", "matplotlib", "pyomo", "sqlalchemy")

PROBE = """
import json, sys
from api.cli import app
try:
    app(sys.argv[1:], prog_name="clvbid")
except SystemExit as stop:
    code = stop.code
loaded = sorted({name.split(".")[0] for name in sys.modules})
print(json.dumps({"code": code, "loaded": loaded}), file=sys.stderr)
"""


def _imports_for(*args: str) -> dict[str, object]:
    """Run the CLI with `args` in a fresh interpreter; its exit code and the heavy libraries
    it imported (from the last line the probe writes on stderr)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=600
    )
    outcome = json.loads(done.stderr.strip().splitlines()[-1])
    return {"code": outcome["code"], "heavy": sorted(set(outcome["loaded"]) & set(HEAVY))}


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("--help",), 0),
        (("allocate",), 2),
        (("allocate", "--help"), 0),
        (("scenario", "run"), 2),
        (("serve", "--port", "not-a-port"), 2),
        (("no-such-command",), 2),
    ],
)
def test_help_and_argument_errors_import_no_heavy_library(args: tuple[str, ...], code: int) -> None:
    outcome = _imports_for(*args)
    assert outcome == {"code": code, "heavy": []}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_command_list_matches_each_commands_help(name: str) -> None:
    assert load_command(name).get_short_help_str(limit=200) == COMMANDS[name].summary
