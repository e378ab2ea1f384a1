"""Where replications run: in this process, a local process pool (the default, all cores), or a
Dask distributed cluster. A replication's result depends only on (scenario, seed, replication),
so every executor gives the same numbers."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Protocol

from twin.errors import TwinError

__all__ = ["Executor", "InProcess", "LocalPool", "DaskCluster", "make_executor", "CLUSTER_ENV"]

CLUSTER_ENV = "TWIN_CLUSTER"


class Executor(Protocol):
    name: str

    def map(self, fn: Callable[[Any], Any], jobs: Sequence[Any]) -> Iterator[Any]:
        """Results of ``fn(job)`` for every job, in job order, as they become available."""
        ...

    def close(self) -> None: ...


class InProcess:
    name = "in-process"

    def map(self, fn: Callable[[Any], Any], jobs: Sequence[Any]) -> Iterator[Any]:
        for job in jobs:
            yield fn(job)

    def close(self) -> None:
        pass


class LocalPool:
    """A pool of worker processes on this machine, kept for the executor's life."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.name = f"local pool ({self.workers} workers)"
        self._pool: ProcessPoolExecutor | None = None

    def map(self, fn: Callable[[Any], Any], jobs: Sequence[Any]) -> Iterator[Any]:
        if len(jobs) <= 1 or self.workers <= 1:
            yield from InProcess().map(fn, jobs)
            return
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers)
        yield from self._pool.map(fn, jobs)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


class DaskCluster:
    """Replications as tasks on a Dask distributed cluster (``tcp://HOST:PORT``)."""

    def __init__(self, address: str, timeout: float = 5.0) -> None:
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - distributed is a base dependency
            raise TwinError(f"running on a cluster needs the 'distributed' package: {exc}") from None
        try:
            self.client = Client(address, timeout=f"{timeout}s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise TwinError(
                f"cannot reach the Dask cluster at {address} within {timeout:g}s ({type(exc).__name__}: {exc}); "
                f"check the scheduler is running and the address (--cluster or ${CLUSTER_ENV})"
            ) from None
        self.name = f"dask cluster {address}"

    def map(self, fn: Callable[[Any], Any], jobs: Sequence[Any]) -> Iterator[Any]:
        futures = self.client.map(fn, list(jobs), pure=False)
        try:
            for fut in futures:
                yield fut.result()
        finally:
            for fut in futures:
                fut.cancel()

    def close(self) -> None:
        self.client.close()


def make_executor(workers: int | None = None, cluster: str | None = None) -> Executor:
    """The executor a user asked for: a cluster (argument or $TWIN_CLUSTER), else a local pool;
    ``workers=1`` runs in this process."""
    address = cluster or os.environ.get(CLUSTER_ENV) or None
    if address:
        return DaskCluster(address)
    if workers == 1:
        return InProcess()
    return LocalPool(workers)
