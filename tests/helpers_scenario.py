"""Scenario texts shared by the twin.scenario tests (tests/test_scenario*.py): the small site fixture's
text, the head of a scenario that references it, and the one-line problem reports of a file that fails
to load. A plain module, not a test file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from twin.errors import ScenarioError
from twin.scenario import load_scenario

SITE_TEXT = (FIXTURES / "site_small.yaml").read_text()

HEAD = """\
name: small
site: site_small.yaml
horizon: 20d
"""


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [str(p) for p in info.value.problems]

