"""A known 2nd-order discrete system recorded in a historian file, and its project."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import tomli_w

from energyopt.data.writer import write_historian

#: Truth in SI: y[k] = A1 y[k-1] + A2 y[k-2] + B1 u[k-1] + B2 u[k-2] + BD (d[k-1] - 0.6) + C + e.
#: Poles 0.75 +- 0.3708j (|p| = 0.837); steady-state gain 1e7 W per unit damper
#: fraction; y = 5 MW at u = 0.6 (60 %), d = 0.6 m.
A1, A2 = 1.5, -0.7
B1, B2 = 1.2e6, 0.8e6
BD = 2.0e6
C = -0.2e6
NOISE_W = 1.0e4
STEP_MS = 60_000
T0_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
N = 5000
N_TRAIN = 4000
#: Rows removed from the recording (a 31-minute outage inside the training window).
HOLE = slice(1500, 1531)
TAGS = {"damper": "SINTER.FAN.DAMPER", "bed": "SINTER.BED.H", "power": "SINTER.FAN.POWER"}


def true_poles() -> np.ndarray:
    return np.sort_complex(np.roots([1.0, -A1, -A2]))


def simulate_truth(u: np.ndarray, d: np.ndarray, e: np.ndarray) -> np.ndarray:
    """The ARX recursion from the steady state (independent of the code under test)."""
    y = np.full(u.size, 5.0e6)
    for k in range(2, u.size):
        y[k] = (
            A1 * y[k - 1]
            + A2 * y[k - 2]
            + B1 * u[k - 1]
            + B2 * u[k - 2]
            + BD * (d[k - 1] - 0.6)
            + C
            + e[k]
        )
    return y


@dataclass(frozen=True)
class Plant:
    """Paths and data of the recorded plant."""

    folder: Path
    project: Path
    history: Path
    time_ms: np.ndarray

    def ms(self, row: int) -> int:
        """Time of grid row ``row`` of the full (hole-free) grid. [ms]"""
        return T0_MS + row * STEP_MS


def model_table(**overrides: Any) -> dict[str, Any]:
    table: dict[str, Any] = {
        "kind": "arx",
        "sample_time_s": "1 min",
        "na": 2,
        "nb": 2,
        "nk": 1,
        "inputs": [{"name": "damper", "tag": TAGS["damper"], "unit": "%"}],
        "disturbances": [{"name": "bed_height", "tag": TAGS["bed"], "unit": "mm"}],
        "outputs": [{"name": "power", "tag": TAGS["power"], "unit": "MW"}],
    }
    table.update(overrides)
    return table


def project_doc(**overrides: Any) -> dict[str, Any]:
    return {
        "project": {
            "format_version": 1,
            "name": "Sinter plant",
            "timezone": "UTC",
            "currency": "CNY",
        },
        "units": {
            "sinter_fan": {
                "type": "data_driven",
                "description": "Sinter main fan: no first-principles model",
                "model": model_table(**overrides),
            }
        },
    }


def _history(seed: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    # Damper: random levels held 1-5 minutes (persistently exciting), 40-80 %.
    holds = rng.integers(1, 6, size=N)
    levels = rng.uniform(0.4, 0.8, size=N)
    u = np.repeat(levels, holds)[:N]
    d = 0.6 + np.cumsum(rng.normal(0.0, 0.002, size=N))  # bed height, slow walk [m]
    d = 0.6 + (d - d.mean())
    y = simulate_truth(u, d, NOISE_W * rng.normal(size=N))
    keep = np.ones(N, dtype=bool)
    keep[HOLE] = False
    time_ms = (T0_MS + STEP_MS * np.arange(N))[keep]
    values = {
        TAGS["damper"]: 100.0 * u[keep],
        TAGS["bed"]: 1000.0 * d[keep],
        TAGS["power"]: y[keep] / 1.0e6,
    }
    return time_ms, values


@pytest.fixture(scope="session")
def truth() -> SimpleNamespace:
    """Constants of the recorded system for the tests."""
    return SimpleNamespace(n_train=N_TRAIN, tags=TAGS, poles=true_poles())


@pytest.fixture(scope="session")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Plant]:
    """Factory: write the history (once) and a project with a modified model table."""
    folder = tmp_path_factory.mktemp("sinter")
    time_ms, values = _history(seed=7)
    history = write_historian(
        folder / "history.h5",
        time_ms,
        values,
        {TAGS["damper"]: "%", TAGS["bed"]: "mm", TAGS["power"]: "MW"},
        kinds={TAGS["damper"]: "position", TAGS["bed"]: "level", TAGS["power"]: "power"},
    )
    count = iter(range(1000))

    def make(doc: dict[str, Any] | None = None, **overrides: Any) -> Plant:
        sub = folder / f"p{next(count)}"
        sub.mkdir()
        project = sub / "plant.toml"
        project.write_text(tomli_w.dumps(doc or project_doc(**overrides)), encoding="utf-8")
        return Plant(sub, project, history, time_ms)

    return make
