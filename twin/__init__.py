"""LEMS Twin: simulation and digital twin for logistics engineering.

The same functions serve the CLI, notebooks and the HTTP API::

    import twin
    scenario = twin.load_scenario("scenarios/hospital/baseline.yaml")
    result = twin.simulate(scenario, replications=10, seed=7)
    result.kpis      # one row per replication
    result.summary   # mean and 95% CI per KPI
    result.events    # the flat event log of every replication (keep_events=True)
    cmp = twin.compare(["scenarios/hospital/baseline.yaml", "scenarios/hospital/emergency.yaml"])
    cmp.differences  # paired differences against the first scenario, with 95% CIs

The engine is imported on first use, so ``import twin.model`` (used by pure policy code) never
pulls in SimPy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twin.errors import ScenarioError, TwinError

if TYPE_CHECKING:
    from twin.comparison import ComparisonResult, compare
    from twin.experiment import SimulationResult, simulate
    from twin.scenario import load_scenario

__all__ = ["load_scenario", "simulate", "compare", "SimulationResult", "ComparisonResult", "TwinError",
           "ScenarioError"]
__version__ = "0.1.0"

_LAZY = {
    "load_scenario": "twin.scenario",
    "simulate": "twin.experiment",
    "SimulationResult": "twin.experiment",
    "compare": "twin.comparison",
    "ComparisonResult": "twin.comparison",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'twin' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
