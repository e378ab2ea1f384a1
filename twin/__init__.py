"""LEMS Twin: simulation and digital twin for logistics engineering.

The same functions serve the CLI, notebooks and the HTTP API::

    import twin
    scenario = twin.load_scenario("scenarios/hospital/baseline.yaml")
    result = twin.simulate(scenario, replications=10, seed=7)
    result.kpis      # one row per replication
    result.summary   # mean and 95% CI per KPI
    result.events    # the flat event log of every replication
"""

from twin.errors import ScenarioError, TwinError
from twin.experiment import SimulationResult, simulate
from twin.scenario import load_scenario

__all__ = ["load_scenario", "simulate", "SimulationResult", "TwinError", "ScenarioError"]
__version__ = "0.1.0"
