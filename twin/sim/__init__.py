"""SimPy processes, one module per domain, assembled by the engine."""

from twin.sim.engine import Engine, RunOutput, run_replication

__all__ = ["Engine", "RunOutput", "run_replication"]
