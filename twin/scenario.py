"""Scenario files: YAML -> validated Scenario, with `extends:` overlays and `site:` references.

Every problem is reported at once as ``FILE:LINE: yaml.path: message``. The loader remembers, for
every key, which file and line it came from, so an error inside an overlaid or referenced file
still points at the right place.
"""

from __future__ import annotations

import copy
import hashlib
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from policies.base import PolicyLoadError, policy_params_model
from twin.crossref import duplicate_ids, opening_problems
from twin.drill_checks import drill_problems
from twin.errors import Problem, ScenarioError
from twin.fleet_checks import fleet_problems
from twin.floor_checks import floor_problems
from twin.maintenance_checks import maintenance_problems, maintenance_warnings
from twin.model.scenario import Scenario
from twin.model.site import Site
from twin.scenario_production import made_items, production_problems

__all__ = ["load_scenario", "load_site", "scenario_digest", "scenario_warnings", "validate_files", "format_path"]

PathKey = tuple[str | int, ...]
Origins = dict[PathKey, tuple[str, int]]
# Origins also marks each file read as a site file, under a key no YAML path can spell (a NUL byte).
_SITE_FILE = "\0site-file"


def format_path(path: Iterable[str | int]) -> str:
    """('site', 'items', 3, 'unit_cost') -> 'site.items[3].unit_cost'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _construct(node: yaml.Node, file: str, path: PathKey, origins: Origins, skip: int = 0) -> Any:
    """Turn a composed YAML node into plain data, recording the origin line of every path.

    ``skip`` leading parts of ``path`` are a prefix the file itself does not spell (a site file is
    read under ``site``); messages leave them out.
    """
    origins[path] = (file, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                raw = key_node.value
            else:
                raw = yaml.safe_load(yaml.serialize(key_node))
            key = str(raw)
            if key in out:
                line = key_node.start_mark.line + 1
                raise _single(file, line, format_path((*path, key)[skip:]), "duplicate key")
            out[key] = _construct(value_node, file, (*path, key), origins, skip)
            origins[(*path, key)] = (file, key_node.start_mark.line + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(v, file, (*path, i), origins, skip) for i, v in enumerate(node.value)]
    # Scalars: let PyYAML's safe resolver decide int/float/bool/null/str.
    try:
        return yaml.safe_load(yaml.serialize(node))
    except yaml.YAMLError:
        # e.g. a '!!python/...' tag: the safe loader refuses it, and so do we (without a traceback).
        line = node.start_mark.line + 1
        raise _single(file, line, format_path(path[skip:]), f"unsupported YAML tag {node.tag!r}") from None


def _single(file: str, line: int | None, path: str, message: str) -> ScenarioError:
    return ScenarioError([Problem(file, line, path, message)])


_KEY_AT_LINE_START = re.compile(r"^\s*(?:-\s+)?([^\s#:'\"\[\]{},&*!|>%@`-][^:#]*?)\s*:(?:\s|$)")


def _path_at_error(text: str, error_line: int | None) -> PathKey:
    """Best effort for malformed YAML: the key path the parser had reached before ``error_line``
    (0-based), plus the key that line starts with, if any."""
    # Frames: [key or index, busy, flow]; a mapping frame is busy while its key's value is being
    # read, a sequence frame while one of its items (a nested collection) is.
    stack: list[list[Any]] = []
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            mark = event.start_mark
            if error_line is not None and mark is not None and mark.line >= error_line:
                break
            if isinstance(event, yaml.CollectionEndEvent):
                stack.pop()
                if stack:
                    stack[-1][1] = False
                continue
            if not isinstance(event, yaml.NodeEvent):
                continue
            starts = isinstance(event, yaml.CollectionStartEvent)
            top = stack[-1] if stack else None
            if top is not None and isinstance(top[0], str | None) and not top[1]:
                top[0] = getattr(event, "value", None)  # a key (None: a complex key)
                top[1] = not starts
            elif top is not None:
                if isinstance(top[0], int):
                    top[0] += 1
                top[1] = starts
            if starts:
                first: str | int | None = None if isinstance(event, yaml.MappingStartEvent) else -1
                stack.append([first, False, bool(getattr(event, "flow_style", False))])
    except yaml.YAMLError:
        pass
    path: list[str | int] = []
    for key, busy, flow in stack:
        if flow:
            # Inside an unclosed [..] or {..}: the collection itself is the best guess.
            return tuple(path)
        if busy and key is not None and key != -1:
            path.append(key)
    lines = text.splitlines()
    if error_line is not None and error_line < len(lines):
        match = _KEY_AT_LINE_START.match(lines[error_line])
        if match and (not path or stack[-1][1] is False):
            path.append(match.group(1).strip())
    return tuple(path)


def _read_yaml(file: Path, shown: str, prefix: PathKey, origins: Origins) -> dict[str, Any]:
    if not file.is_file():
        raise _single(shown, None, "", f"file not found: {file}")
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise _single(shown, None, "", f"not a UTF-8 text file ({exc.reason} at byte {exc.start})") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        where = format_path(_path_at_error(text, mark.line if mark else None))
        raise _single(shown, line, where, f"malformed YAML: {problem}") from None
    if node is None:
        raise _single(shown, 1, "", "the file is empty")
    if not isinstance(node, yaml.MappingNode):
        raise _single(shown, node.start_mark.line + 1, "", "expected a mapping of keys at the top level")
    data = _construct(node, shown, prefix, origins, len(prefix))
    assert isinstance(data, dict)
    return data


def _overlay(
    base: dict[str, Any], top: dict[str, Any], origins: Origins, prefix: PathKey = ()
) -> dict[str, Any]:
    """Keys in `top` replace those in `base`; nested mappings merge; lists are replaced whole.

    Where a value is replaced, the base's origins below it are forgotten: otherwise an error about
    a key the overlay left out would point at the base file's line of the old value.
    """
    out = copy.deepcopy(base)
    for key, value in top.items():
        path = (*prefix, key)
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _overlay(out[key], value, origins, path)
        else:
            out[key] = value
            depth = len(path)
            for stale in [p for p in origins if len(p) > depth and p[:depth] == path]:
                del origins[stale]
    return out


def _absolute_histories(site: Any, folder: Path) -> None:
    """Demand history CSVs are named relative to the file that names them; make them absolute."""
    demand = site.get("demand") if isinstance(site, dict) else None
    if not isinstance(demand, list):
        return
    for stream in demand:
        if isinstance(stream, dict) and isinstance(stream.get("history"), str):
            ref = Path(stream["history"]).expanduser()
            if not ref.is_absolute():
                stream["history"] = str((folder / ref).resolve())


def _resolve(file: Path, origins: Origins, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a scenario file, following `extends:` (recursively) and inlining `site:` files."""
    shown = _shown(file)
    if file.resolve() in seen:
        chain = " -> ".join(_shown(p) for p in (*seen, file))
        raise _single(shown, None, "extends", f"circular extends: {chain}")
    own: Origins = {}
    data = _read_yaml(file, shown, (), own)
    _absolute_histories(data.get("site"), file.parent)
    base_ref = data.pop("extends", None)
    if base_ref is not None:
        if not isinstance(base_ref, str):
            raise _single(shown, own[("extends",)][1], "extends", "extends must be a file path")
        base_file = (file.parent / base_ref)
        if not base_file.is_file():
            raise _single(shown, own[("extends",)][1], "extends", f"file not found: {base_ref}")
        base = _resolve(base_file, origins, (*seen, file.resolve()))
        # Keys redefined here take their origin from this file.
        data = _overlay(base, data, origins)
    origins.update(own)
    site_ref = data.get("site")
    if isinstance(site_ref, str):
        site_file = file.parent / site_ref
        if not site_file.is_file():
            line = own.get(("site",), (shown, None))[1]
            raise _single(shown, line, "site", f"file not found: {site_ref}")
        site_origins: Origins = {}
        data["site"] = _read_yaml(site_file, _shown(site_file), ("site",), site_origins)
        site_origins[(_SITE_FILE, _shown(site_file))] = (_shown(site_file), 0)
        _absolute_histories(data["site"], site_file.parent)
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
    # Paths inside a referenced site file are shown relative to that file (a site written inline,
    # in this file or in a base it extends, keeps its 'site.' prefix).
    shown_loc = loc[1:] if loc and loc[0] == "site" and (_SITE_FILE, file) in origins else loc
    return file, line, format_path(shown_loc)


def _pydantic_problems(
    exc: ValidationError, origins: Origins, default_file: str, prefix: PathKey = (), keys: Iterable[str] = ()
) -> list[Problem]:
    """Map pydantic errors to problems. ``prefix`` is where the validated data sits in the file;
    ``keys`` are the keys given there, used to place a whole-model check (empty loc) on the key
    its message names ('service_level must be ...' -> prefix.service_level)."""
    problems = []
    for err in exc.errors():
        loc: PathKey = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        # Pydantic adds the union/literal branch names to loc; drop the ones that are not real keys.
        loc = tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p in ("str", "float", "int"))))
        if not loc:
            named = [k for k in keys if re.search(rf"(?<![\w.]){re.escape(k)}(?![\w])", err["msg"])]
            loc = (named[0],) if named else ()
        loc = (*prefix, *loc)
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key (check its spelling; see `twin schema`)"
        elif err["type"] == "missing":
            message = "required key is missing"
        elif "input" in err and err["type"] != "model_type" and not isinstance(err["input"], (dict, list)):
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
    duplicate_ids((("item", [i.id for i in site.items]), ("warehouse", [w.id for w in site.warehouses]),
                   ("supplier", [s.id for s in site.suppliers])), add)
    for n, item in enumerate(site.items):
        if item.supplier is not None and item.supplier not in suppliers:
            add(("site", "items", n, "supplier"), f"unknown supplier {item.supplier!r}")
    supplied = {i.id for i in site.items if i.supplier} | made_items(site)
    for n, sup in enumerate(site.suppliers):
        for k, ident in enumerate(sup.items):
            if ident not in items:
                add(("site", "suppliers", n, "items", k), f"unknown item {ident!r}")
            supplied.add(ident)
    for n, item in enumerate(site.items):
        if item.id not in supplied:
            add(("site", "items", n, "id"), f"item {item.id!r} has no supplier; name one with 'supplier:'")
    production_problems(site, add)
    if scenario.policies.production is not None and site.production is None:
        add(("policies", "production", "use"), "a production policy needs a site with 'production:' (lines, "
                                               "routings); remove it or add the plant")
    for n, stream in enumerate(site.demand):
        if stream.history is not None and not Path(stream.history).is_file():
            add(("site", "demand", n, "history"), f"file not found: {stream.history}")
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
    problems.extend(maintenance_problems(site, add))
    fleet_problems(scenario, add)
    problems.extend(floor_problems(site, lambda loc: _locate(origins, loc, default_file)))  # issue 8
    drill_problems(scenario, add)  # issue 8, training mode
    opening_problems(scenario, add)  # issue 7: what a forecast forked from the live site starts with
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


def _policy_problems(scenario: Scenario, origins: Origins, default_file: str) -> list[Problem]:
    """Each policy must exist, and its params must fit the policy's Params model (when it has one)."""
    problems: list[Problem] = []
    for domain in type(scenario.policies).model_fields:
        ref = getattr(scenario.policies, domain)
        if ref is None or domain == "forecast":  # forecast settings are checked by their own model
            continue
        try:
            model = policy_params_model(ref.use)
        except PolicyLoadError as exc:
            file, line, path = _locate(origins, ("policies", domain, "use"), default_file)
            problems.append(Problem(file, line, path, str(exc)))
            continue
        except Exception as exc:  # a user's module that fails while it is imported (SyntaxError, ...)
            file, line, path = _locate(origins, ("policies", domain, "use"), default_file)
            message = f"cannot load policy {ref.use!r}: {type(exc).__name__}: {exc}"
            problems.append(Problem(file, line, path, message))
            continue
        if model is None:
            continue
        try:
            model.model_validate(ref.params)
        except ValidationError as exc:
            where = ("policies", domain, "params")
            problems.extend(_pydantic_problems(exc, origins, default_file, where, ref.params))
    return problems


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file (following `extends:` and `site:`).

    Raises ScenarioError carrying every problem found, each located by file, line and YAML path.
    """
    file = Path(path)
    origins: Origins = {}
    data = _resolve(file, origins)
    shown = _shown(file)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_pydantic_problems(exc, origins, shown)) from None
    problems = _cross_reference(scenario, origins, shown) + _policy_problems(scenario, origins, shown)
    if problems:
        raise ScenarioError(problems)
    scenario._warnings = tuple(_warnings(scenario, origins, shown))
    return scenario


def _warnings(scenario: Scenario, origins: Origins, default_file: str) -> list[str]:
    """'FILE:LINE: path: warning: message' for what runs but deserves a look (not an error: exit code 0)."""
    found: list[str] = []

    def warn(loc: PathKey, message: str) -> None:
        file, line, path = _locate(origins, loc, default_file)
        where = f"{file}:{line}" if line else file
        found.append(f"{where}: {path}: warning: {message}")

    maintenance_warnings(scenario.site, warn)
    return found


def scenario_warnings(scenario: Scenario) -> list[str]:
    """The loader's warnings for a scenario ('FILE:LINE: path: warning: ...'); [] if built in code."""
    return list(scenario._warnings)


def load_site(path: str | Path) -> Site:
    """Load and validate a site file on its own."""
    file = Path(path)
    origins: Origins = {}
    shown = _shown(file)
    data = _read_yaml(file, shown, (), origins)
    _absolute_histories(data, file.parent)
    try:
        return Site.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_pydantic_problems(exc, origins, shown)) from None


def scenario_digest(scenario: Scenario) -> str:
    """A stable hash of everything a run depends on in the scenario (site included)."""
    text = scenario.model_dump_json(by_alias=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def validate_files(paths: Iterable[str | Path], warnings: list[str] | None = None) -> list[Problem]:
    """Validate several scenario files; return every problem found across all of them (and append
    the valid files' warnings to ``warnings`` when given)."""
    problems: list[Problem] = []
    for path in paths:
        try:
            scenario = _load_site_as_scenario(Path(path)) if _is_site_file(Path(path)) else load_scenario(path)
        except ScenarioError as exc:
            problems.extend(exc.problems)
        else:
            if warnings is not None:
                warnings.extend(scenario_warnings(scenario))
    return problems


def _is_site_file(path: Path) -> bool:
    """A site file (``items:`` and no scenario keys), as in scenarios/sites/, rather than a scenario."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False  # the scenario loader reports it with its line
    return isinstance(data, dict) and "items" in data and not {"site", "extends", "horizon"} & data.keys()


def _load_site_as_scenario(path: Path) -> Scenario:
    """Check a site file as a one-day scenario on it, so its cross references (suppliers, assets,
    sensors, network, floors...) are checked too; problems name the site file's lines."""
    with tempfile.TemporaryDirectory(prefix="lems-validate-") as folder:
        probe = Path(folder) / "site-check.yaml"
        probe.write_text(yaml.safe_dump({"name": f"check-{path.stem}", "site": str(path.resolve()), "horizon": "1d"}))
        return load_scenario(probe)
