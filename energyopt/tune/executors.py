"""Where trial windows run: local worker processes or a dask.distributed cluster.

Both give a :class:`concurrent.futures.Executor` (the dask one through
``Client.get_executor``), so the tune loop waits on plain
:class:`concurrent.futures.Future` objects either way.

Local workers are started with the *spawn* method on every platform: a
forked child would inherit casadi's and numba's threads and locks in an
undefined state, and spawn is what Windows and macOS use anyway.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from energyopt.errors import EnergyoptError

__all__ = ["CONNECT_TIMEOUT_S", "TrialExecutor", "open_executor"]

#: Thread-count variables of the BLAS and OpenMP runtimes.
_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")

#: How long to try to reach a dask scheduler. [s]
CONNECT_TIMEOUT_S = 30.0


@dataclass
class TrialExecutor:
    """An executor, how many jobs it runs at once, and how to stop it.

    Attributes
    ----------
    executor : concurrent.futures.Executor
        Runs :func:`energyopt.tune.evaluate.run_window` jobs.
    slots : int
        Jobs it runs at the same time (worker processes or cluster threads).
    where : str
        Description for messages (``"2 local processes"``, ``"tcp://..."``).
    """

    executor: Executor
    slots: int
    where: str
    _client: Any = None

    def close(self, *, abort: bool = False) -> None:
        """Shut the executor down.

        Parameters
        ----------
        abort : bool
            Cancel queued jobs and stop running ones at once (cancellation):
            local worker processes are terminated, cluster futures cancelled.
            Otherwise wait for running jobs.
        """
        if self._client is not None:
            with contextlib.suppress(Exception):  # a lost scheduler must not mask the cause
                self.executor.shutdown(wait=not abort, cancel_futures=abort)
            with contextlib.suppress(Exception):
                self._client.close()
            return
        if not abort:
            self.executor.shutdown(wait=True)
            return
        _terminate_local_workers(self.executor)


def _terminate_local_workers(executor: Executor) -> None:
    """Cancel queued jobs and stop the worker processes of a process pool now.

    Python 3.14 has ``ProcessPoolExecutor.terminate_workers``; before it, the
    pool exposes its processes only as ``_processes`` (and forgets them on
    ``shutdown``), so we take them first and terminate them after the
    shutdown -- the only way to interrupt a running replay, whose result is
    discarded and its trial rerun.
    """
    terminate = getattr(executor, "terminate_workers", None)
    if callable(terminate):  # pragma: no cover - Python >= 3.14
        terminate()
        return
    processes = list((getattr(executor, "_processes", None) or {}).values())
    manager = getattr(executor, "_executor_manager_thread", None)
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(timeout=5.0)
    # The pool's manager thread sees the killed workers as a broken pool and
    # terminates and joins them too; two threads reaping one child race (the
    # loser's join returns early and leaves it listed as a child), so wait for
    # the manager to finish before saying the workers are gone.
    if manager is not None:
        with contextlib.suppress(Exception):
            manager.join(timeout=10.0)
    multiprocessing.active_children()  # reap what the race above left listed


def open_executor(workers: int = 1, scheduler: str | None = None) -> TrialExecutor:
    """Open local worker processes, or connect to a dask.distributed scheduler.

    Parameters
    ----------
    workers : int
        Local worker processes (ignored with ``scheduler``).
    scheduler : str or None
        Address of a dask.distributed scheduler (``tcp://host:8786``); its
        workers need energyopt installed, and read the data file by the same path.

    Returns
    -------
    TrialExecutor

    Raises
    ------
    EnergyoptError
        If ``workers`` is not positive, dask.distributed is not installed
        (the ``cluster`` extra), or the scheduler cannot be reached.
    """
    from energyopt.tune.evaluate import init_local_worker, init_worker

    if scheduler is None:
        if workers < 1:
            raise EnergyoptError(f"tune: --workers must be at least 1, got {workers}")
        # One BLAS/OpenMP thread per worker: N workers on N cores must not
        # oversubscribe them.  A spawned worker reads these when it loads
        # numpy, which can happen before any initializer runs (re-importing
        # the main module), so they are set in this process's environment,
        # which the workers inherit (explicit user settings are kept; numpy
        # already loaded here is not affected).
        for name in _THREAD_VARIABLES:
            os.environ.setdefault(name, "1")
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=init_local_worker,
        )
        noun = "process" if workers == 1 else "processes"
        return TrialExecutor(pool, workers, f"{workers} local {noun}")
    try:
        from distributed import Client
    except ImportError:
        raise EnergyoptError(
            "tune: --scheduler needs dask.distributed (pip install 'energyopt[cluster]')"
        ) from None
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as exc:
        raise EnergyoptError(f"tune: cannot reach the dask scheduler {scheduler}: {exc}") from None
    try:
        client.run(init_worker)
        slots = max(1, sum(client.nthreads().values()))
    except Exception as exc:
        client.close()
        raise EnergyoptError(f"tune: dask scheduler {scheduler}: {exc}") from None
    return TrialExecutor(client.get_executor(pure=False), slots, scheduler, _client=client)
