"""Scenario files: YAML -> validated Scenario, with `extends:` overlays and `site:` references.

Every problem is reported at once as ``FILE:LINE: yaml.path: message``. The loader remembers, for
every key, which file and line it came from, so an error inside an overlaid or referenced file
still points at the right place.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from twin.errors import Problem, ScenarioError
from twin.model.scenario import Scenario
from twin.model.site import Site

__all__ = ["load_scenario", "load_site", "scenario_digest", "validate_files", "format_path"]

PathKey = tuple[str | int, ...]
Origins = dict[PathKey, tuple[str, int]]


def format_path(path: Iterable[str | int]) -> str:
    """('site', 'items', 3, 'unit_cost') -> 'site.items[3].unit_cost'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _construct(node: yaml.Node, file: str, path: PathKey, origins: Origins) -> Any:
    """Turn a composed YAML node into plain data, recording the origin line of every path."""
    origins[path] = (file, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node)) if not isinstance(key_node, yaml.ScalarNode) else key_node.value
            key = str(key)
            if key in out:
                raise _single(file, key_node.start_mark.line + 1, format_path((*path, key)), "duplicate key")
            out[key] = _construct(value_node, file, (*path, key), origins)
            origins[(*path, key)] = (file, key_node.start_mark.line + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(v, file, (*path, i), origins) for i, v in enumerate(node.value)]
    # Scalars: let PyYAML's safe resolver decide int/float/bool/null/str.
    return yaml.safe_load(yaml.serialize(node))


def _single(file: str, line: int | None, path: str, message: str) -> ScenarioError:
    return ScenarioError([Problem(file, line, path, message)])


def _read_yaml(file: Path, shown: str, prefix: PathKey, origins: Origins) -> dict[str, Any]:
    if not file.is_file():
        raise _single(shown, None, "", f"file not found: {file}")
    text = file.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise _single(shown, line, "", f"malformed YAML: {exc.problem or exc}") from None
    if node is None:
        raise _single(shown, 1, "", "the file is empty")
    if not isinstance(node, yaml.MappingNode):
        raise _single(shown, node.start_mark.line + 1, "", "expected a mapping of keys at the top level")
    data = _construct(node, shown, prefix, origins)
    assert isinstance(data, dict)
    return data


def _overlay(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """Keys in `top` replace those in `base`; nested mappings merge; lists are replaced whole."""
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _overlay(out[key], value)
        else:
            out[key] = value
    return out


def _resolve(file: Path, origins: Origins, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a scenario file, following `extends:` (recursively) and inlining `site:` files."""
    shown = _shown(file)
    if file.resolve() in seen:
        raise _single(shown, None, "extends", "circular extends: " + " -> ".join(_shown(p) for p in (*seen, file)))
    own: Origins = {}
    data = _read_yaml(file, shown, (), own)
    base_ref = data.pop("extends", None)
    if base_ref is not None:
        if not isinstance(base_ref, str):
            raise _single(shown, own[("extends",)][1], "extends", "extends must be a file path")
        base_file = (file.parent / base_ref)
        if not base_file.is_file():
            raise _single(shown, own[("extends",)][1], "extends", f"file not found: {base_ref}")
        base = _resolve(base_file, origins, (*seen, file.resolve()))
        # Keys redefined here take their origin from this file.
        data = _overlay(base, data)
    origins.update(own)
    site_ref = data.get("site")
    if isinstance(site_ref, str):
        site_file = file.parent / site_ref
        if not site_file.is_file():
            line = own.get(("site",), (shown, None))[1]
            raise _single(shown, line, "site", f"file not found: {site_ref}")
        site_origins: Origins = {}
        data["site"] = _read_yaml(site_file, _shown(site_file), ("site",), site_origins)
        origins.update(site_origins)
    return data


def _shown(file: Path) -> str:
    try:
        return str(file.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(file)


def _locate(origins: Origins, loc: PathKey, default_file: str) -> tuple[str, int | None, str]:
    """Find the file and line nearest to a validation error's location, and the path to show."""
    probe = tuple(loc)
    while probe and probe not in origins:
        probe = probe[:-1]
    file, line = origins.get(probe, (default_file, None))
    # Paths inside a referenced site file are shown relative to that file.
    shown_loc = loc[1:] if loc and loc[0] == "site" and file != default_file else loc
    return file, line, format_path(shown_loc)


def _pydantic_problems(exc: ValidationError, origins: Origins, default_file: str) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc: PathKey = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        # Pydantic adds the union/literal branch names to loc; drop the ones that are not real keys.
        loc = tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p in ("str", "float", "int"))))
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key (check its spelling; see `twin schema`)"
        elif err["type"] == "missing":
            message = "required key is missing"
        elif "input" in err and err["type"] not in ("model_type",) and not isinstance(err["input"], (dict, list)):
            message = f"{message} (got {err['input']!r})"
        file, line, path = _locate(origins, loc, default_file)
        problems.append(Problem(file, line, path, message))
    return problems


def _cross_reference(scenario: Scenario, origins: Origins, default_file: str) -> list[Problem]:
    """Checks that span several parts of the file: ids must refer to things that exist."""
    site = scenario.site
    problems: list[Problem] = []

    def add(loc: PathKey, message: str) -> None:
        file, line, path = _locate(origins, loc, default_file)
        problems.append(Problem(file, line, path, message))

    items = {it.id for it in site.items}
    warehouses = {w.id for w in site.warehouses}
    suppliers = {s.id for s in site.suppliers}
    for kind, ids in (("item", [i.id for i in site.items]), ("warehouse", [w.id for w in site.warehouses]),
                      ("supplier", [s.id for s in site.suppliers])):
        seen: set[str] = set()
        for n, ident in enumerate(ids):
            if ident in seen:
                add(("site", kind + "s" if kind != "warehouse" else "warehouses", n, "id"), f"duplicate {kind} id {ident!r}")
            seen.add(ident)
    for n, item in enumerate(site.items):
        if item.supplier is not None and item.supplier not in suppliers:
            add(("site", "items", n, "supplier"), f"unknown supplier {item.supplier!r}")
    supplied = {i.id for i in site.items if i.supplier}
    for n, sup in enumerate(site.suppliers):
        for k, ident in enumerate(sup.items):
            if ident not in items:
                add(("site", "suppliers", n, "items", k), f"unknown item {ident!r}")
            supplied.add(ident)
    for n, item in enumerate(site.items):
        if item.id not in supplied:
            add(("site", "items", n, "id"), f"item {item.id!r} has no supplier; name one with 'supplier:'")
    for n, stream in enumerate(site.demand):
        if stream.item not in items:
            add(("site", "demand", n, "item"), f"unknown item {stream.item!r}")
        if stream.location not in warehouses:
            add(("site", "demand", n, "location"), f"unknown warehouse {stream.location!r}")
    for n, proc in enumerate(site.procedures):
        if proc.location not in warehouses:
            add(("site", "procedures", n, "location"), f"unknown warehouse {proc.location!r}")
        for ident in proc.kit:
            if ident not in items:
                add(("site", "procedures", n, "kit", ident), f"unknown item {ident!r}")
    for n, wh in enumerate(site.warehouses):
        if isinstance(wh.initial_stock, dict):
            for ident, qty in wh.initial_stock.items():
                if ident not in items:
                    add(("site", "warehouses", n, "initial_stock", ident), f"unknown item {ident!r}")
                elif qty < 0:
                    add(("site", "warehouses", n, "initial_stock", ident), f"negative quantity {qty}")
    for n, dis in enumerate(scenario.disruptions):
        if dis.supplier is not None and dis.supplier not in suppliers:
            add(("disruptions", n, "supplier"), f"unknown supplier {dis.supplier!r}")
        if dis.at >= scenario.horizon:
            add(("disruptions", n, "at"), "starts after the horizon ends")
        sel = dis.items.strip()
        if sel != "*" and ":" not in sel:
            for ident in (s.strip() for s in sel.split(",")):
                if ident not in items:
                    add(("disruptions", n, "items"), f"unknown item {ident!r}")
        elif ":" in sel and sel.split(":", 1)[0] not in ("class", "storage", "category"):
            add(("disruptions", n, "items"), f"unknown selector {sel!r}; use class:, storage: or category:")
    return problems


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file (following `extends:` and `site:`); raise ScenarioError on problems."""
    file = Path(path)
    origins: Origins = {}
    data = _resolve(file, origins)
    shown = _shown(file)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_pydantic_problems(exc, origins, shown)) from None
    problems = _cross_reference(scenario, origins, shown)
    if problems:
        raise ScenarioError(problems)
    return scenario


def load_site(path: str | Path) -> Site:
    """Load and validate a site file on its own."""
    file = Path(path)
    origins: Origins = {}
    shown = _shown(file)
    data = _read_yaml(file, shown, ("site",), origins)
    try:
        return Site.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_pydantic_problems(exc, origins, shown)) from None


def scenario_digest(scenario: Scenario) -> str:
    """A stable hash of everything a run depends on in the scenario (site included)."""
    text = scenario.model_dump_json(by_alias=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def validate_files(paths: Iterable[str | Path]) -> list[Problem]:
    """Validate several scenario files; return every problem found across all of them."""
    problems: list[Problem] = []
    for path in paths:
        try:
            load_scenario(path)
        except ScenarioError as exc:
            problems.extend(exc.problems)
    return problems
