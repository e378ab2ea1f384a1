"""The policy protocol, the registry of built-in policies, and loading a user's policy by import path.

A policy is an object with ``decide(observation) -> list[Action]``. It says when it runs with
``review``: a period in hours (``24.0`` = daily) or ``None`` for continuous review, in which case it
also gives ``reorder_points(observation)`` so the engine knows when a SKU's inventory position has
dropped far enough to call it. Optional hooks:

- ``target_levels(observation) -> array``: stock to start a run with ('initial_stock: policy');
- ``Params``: a pydantic model of its parameters, so scenario files are checked when loaded.

A user's own policy plugs in with ``use: mycompany.replenish:Policy``; it is constructed with the
scenario's ``params`` as keyword arguments and must not import simpy, mesa, pygame, fastapi or twin.sim.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel, ValidationError

from twin.model.actions import Action
from twin.model.observations import InventoryObservation

__all__ = [
    "InventoryPolicy",
    "AllocationPolicy",
    "POLICIES",
    "PolicyLoadError",
    "load_policy",
    "policy_params_model",
    "register",
]


@runtime_checkable
class InventoryPolicy(Protocol):
    """Replenishment decision code (see the module docstring for the hooks)."""

    review: float | None

    def decide(self, observation: InventoryObservation) -> list[Action]: ...


class AllocationPolicy(Protocol):
    """Which lots an order takes stock from: a sort key over (expiry, received, lot id)."""

    def sort_key(self, expiry: float | None, received: float, lot: int) -> tuple[float, ...]: ...


class PolicyLoadError(ValueError):
    """A policy name, import path or parameter that cannot be used; the message says why."""


POLICIES: dict[str, type] = {}


def register(name: str) -> Any:
    """Class decorator: make a policy available under a short name in scenario files."""

    def wrap(cls: type) -> type:
        POLICIES[name] = cls
        cls.policy_name = name  # type: ignore[attr-defined]
        return cls

    return wrap


def _resolve(use: str) -> type:
    if use in POLICIES:
        return POLICIES[use]
    if ":" not in use:
        known = ", ".join(sorted(POLICIES))
        raise PolicyLoadError(f"unknown policy {use!r}; use one of {known} or an import path 'package.module:Class'")
    module_name, _, attr = use.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise PolicyLoadError(f"cannot import {module_name!r} for policy {use!r}: {exc}") from None
    try:
        return getattr(module, attr)  # type: ignore[no-any-return]
    except AttributeError:
        raise PolicyLoadError(f"module {module_name!r} has no {attr!r} (policy {use!r})") from None


def policy_params_model(use: str) -> type[BaseModel] | None:
    """The pydantic model of a policy's parameters, if it declares one."""
    cls = _resolve(use)
    params = getattr(cls, "Params", None)
    return params if isinstance(params, type) and issubclass(params, BaseModel) else None


def load_policy(use: str, params: dict[str, Any], review: float | None = None) -> Any:
    """Construct a policy from its name or import path and its parameters."""
    cls = _resolve(use)
    model = policy_params_model(use)
    try:
        if model is not None:
            policy = cls(model.model_validate(params))
        else:
            policy = cls(**params)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise PolicyLoadError(f"policy {use!r}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    except TypeError as exc:
        raise PolicyLoadError(f"policy {use!r} does not accept these params: {exc}") from None
    if review is not None:
        policy.review = review
    if not callable(getattr(policy, "decide", None)) and not callable(getattr(policy, "sort_key", None)):
        raise PolicyLoadError(f"policy {use!r} has neither decide(observation) nor sort_key(...)")
    return policy


def per_sku(value: float | dict[str, float] | None, obs: InventoryObservation, default: float = np.nan) -> np.ndarray:
    """Expand a parameter given as one number or per item ({item: v, 'class:A': v, '*': v}) to SKUs;
    'item@location' sets one SKU (a plant's raw-material store apart from a service depot, say)."""
    n = len(obs.params)
    if value is None:
        return np.full(n, default, dtype=float)
    if isinstance(value, (int, float)):
        return np.full(n, float(value))
    out = np.full(n, float(value.get("*", default)))
    classes = obs.params.item_class
    for key, v in value.items():
        if key.startswith("class:"):
            cls = key.split(":", 1)[1]
            out[[k for k, c in enumerate(classes) if c == cls]] = float(v)
    for k, item in enumerate(obs.params.items):
        if item in value:
            out[k] = float(value[item])
    if any("@" in key for key in value):
        for k, (item, loc) in enumerate(zip(obs.params.items, obs.params.locations, strict=True)):
            if f"{item}@{loc}" in value:
                out[k] = float(value[f"{item}@{loc}"])
    return out
