"""Executors give identical results: in-process, local pool, and a real Dask cluster."""

from __future__ import annotations

import time

import pytest

from tests.conftest import small_scenario
from twin.errors import TwinError
from twin.executors import DaskCluster, InProcess, LocalPool, make_executor
from twin.experiment import simulate


def test_every_executor_gives_the_same_results() -> None:
    from distributed import LocalCluster

    sc = small_scenario(horizon="15d")
    serial = simulate(sc, replications=3, executor=InProcess())
    pooled = simulate(sc, replications=3, executor=LocalPool(2))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        dask = DaskCluster(cluster.scheduler_address)
        try:
            on_cluster = simulate(sc, replications=3, executor=dask)
        finally:
            dask.close()
    assert serial.hashes == pooled.hashes == on_cluster.hashes
    assert serial.kpis.equals(pooled.kpis) and serial.kpis.equals(on_cluster.kpis)


def test_unreachable_cluster_fails_fast_with_a_clear_message() -> None:
    start = time.monotonic()
    with pytest.raises(TwinError, match="cannot reach the Dask cluster at tcp://127.0.0.1:9"):
        DaskCluster("tcp://127.0.0.1:9", timeout=2)
    assert time.monotonic() - start < 15


def test_make_executor_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(make_executor(1), InProcess)
    assert isinstance(make_executor(), LocalPool)
    monkeypatch.setenv("TWIN_CLUSTER", "tcp://127.0.0.1:9")
    with pytest.raises(TwinError, match="TWIN_CLUSTER"):
        make_executor()
