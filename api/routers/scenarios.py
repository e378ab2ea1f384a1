"""Scenario files: upload (validated first, with the same FILE:LINE messages as `twin validate`), list."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from api.deps import Services, get_services, role
from twin.errors import ScenarioError

router = APIRouter(prefix="/scenarios", tags=["scenarios"])

NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}\.ya?ml$"


class Upload(BaseModel):
    name: str = Field(pattern=NAME, description="file name, e.g. emergency.yaml")
    text: str = Field(max_length=5_000_000, description="the YAML text")
    kind: Literal["scenario", "site"] = "scenario"


def folder(services: Services) -> Path:
    path = services.settings.home / "scenarios"
    path.mkdir(parents=True, exist_ok=True)
    return path


def scenario_path(services: Services, name: str) -> Path:
    """An uploaded scenario by name (404 if there is none)."""
    if not re.match(NAME, name):
        raise HTTPException(404, f"no scenario {name!r}: names look like emergency.yaml")
    path = folder(services) / name
    if not path.is_file():
        raise HTTPException(404, f"no scenario {name!r}: upload it with POST /scenarios")
    return path


def _problems(path: Path, kind: str, shown: str) -> list[str]:
    from twin.scenario import load_scenario, load_site

    try:
        (load_site if kind == "site" else load_scenario)(path)
    except ScenarioError as exc:
        # Name files as the client knows them: no server folders in the messages.
        return [str(p).replace(str(path.parent) + os.sep, "").replace(path.name, shown) for p in exc.problems]
    return []


def _check(services: Services, body: Upload, keep: bool) -> list[str]:
    # Written beside the other uploads first, so `site:` and `extends:` references resolve there.
    tmp = folder(services) / f".upload-{secrets.token_hex(4)}-{body.name}"
    tmp.write_text(body.text, encoding="utf-8")
    try:
        problems = _problems(tmp, body.kind, body.name)
        if not problems and keep:
            os.replace(tmp, folder(services) / body.name)
        return problems
    finally:
        tmp.unlink(missing_ok=True)


@router.post("", status_code=201, **role("planner"))
def upload(body: Upload, services: Services = Depends(get_services)) -> dict[str, object]:
    """Upload a scenario or site file; it is kept only if it is valid (422 lists every problem)."""
    problems = _check(services, body, keep=True)
    if problems:
        raise HTTPException(422, {"problems": problems})
    return {"name": body.name, "kind": body.kind}


@router.post("/validate", **role("viewer"))
def validate(body: Upload, services: Services = Depends(get_services)) -> dict[str, object]:
    """Check a file without keeping it: every problem as FILE:LINE: path: message."""
    problems = _check(services, body, keep=False)
    return {"valid": not problems, "problems": problems}


@router.get("", **role("viewer"))
def list_scenarios(services: Services = Depends(get_services)) -> list[str]:
    """Names of the uploaded files."""
    return sorted(p.name for p in folder(services).iterdir() if re.match(NAME, p.name))
