"""The README's tour runs as written, in order, with exit 0: every ```sh block after
'## Tour', in one shell from the repository root, as a new user would paste them."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
ENABLED = os.environ.get("CI") == "true" or os.environ.get("CLVBID_README_TEST") == "1"


def tour_commands(readme: str) -> list[str]:
    """The sh blocks of the README's Tour section, in order."""
    tour = readme[readme.index("## Tour") :]
    return re.findall(r"```sh\n(.*?)```", tour, flags=re.DOTALL)


def test_the_tour_has_the_commands_a_user_needs() -> None:
    blocks = "\n".join(tour_commands((ROOT / "README.md").read_text()))
    for command in ("clvbid simulate", "clvbid clv fit", "clvbid allocate", "clvbid serve"):
        assert command in blocks
    # no placeholder a user would have to replace
    assert "/ID/" not in blocks and "RUN_ID" not in blocks


@pytest.mark.skipif(
    not ENABLED,
    reason="runs every README command (a few minutes): set CLVBID_README_TEST=1, or CI=true",
)
def test_every_tour_command_runs_in_order() -> None:
    script = "set -euo pipefail\n" + "\n".join(tour_commands((ROOT / "README.md").read_text()))
    done = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=3000
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "Traceback" not in done.stderr
