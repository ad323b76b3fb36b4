"""Flowsheet nodes: boundary feeds, process nodes (mixing points), utility demand sums."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from plant_models.core.equations import EquationModel, Variable, equation
from plant_models.core.mathfuncs import fmax, zeros
from plant_models.core.smooth import clip
from plant_models.flowsheet.stream import NODE_FIELDS, STREAM_SIZE, mix, stream_variables
from plant_models.parameters import UnitParams, param

__all__ = [
    "FeedSettings",
    "feed_model",
    "feed_parameters",
    "process_node_model",
    "utility_node_model",
]


# ---------------------------------------------------------------- boundary feed


def _node_outputs(description: str) -> tuple[Variable, ...]:
    """The six stream signals named as node variables (``supply`` ... ``temperature``)."""
    return tuple(
        Variable(name, v.unit, v.description)
        for name, v in zip(NODE_FIELDS, stream_variables("node", description), strict=True)
    )


@dataclass(frozen=True)
class FeedSettings(UnitParams):
    """A purchased feed entering through a flow-control valve (flowsheet settings).

    Defaults: up to 25 m3/h, valve and flow lag 5 s.
    """

    flow_max_m3_s: float = param(
        25.0 / 3600.0, unit="m^3/s", low=1e-6, high=10.0, description="Flow, valve fully open"
    )
    valve_time_s: float = param(5.0, unit="s", low=0.1, high=600.0, description="Valve lag")


def feed_parameters(settings: FeedSettings) -> np.ndarray:
    """Return the feed's ``p``."""
    return np.array([settings.flow_max_m3_s, settings.valve_time_s], dtype=np.float64)


@equation
def feed_f(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Flow lags the valve: ``dq/dt = (valve q_max - q) / tau``."""
    dxdt = zeros(1)
    dxdt[0] = (clip(u[0], 0.0, 1.0) * p[0] - x[0]) / p[1]
    return dxdt


@equation
def feed_g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """The feed stream: the flow and the composition and temperature disturbances."""
    y = zeros(STREAM_SIZE)
    y[0] = fmax(x[0], 0.0)
    for i in range(1, STREAM_SIZE):
        y[i] = d[i - 1]
    return y


def feed_model() -> EquationModel:
    """Return the boundary-feed model: state the flow, input the valve."""
    composition = stream_variables("in", "Feed")[1:]
    return EquationModel(
        name="feed_source",
        f=feed_f,
        g=feed_g,
        states=(Variable("flow_m3_s", "m^3/s", "Feed flow", 0.0, 25.0 / 3600.0),),
        inputs=(Variable("valve", "dimensionless", "Feed valve", 0.0, 1.0),),
        disturbances=composition,
        outputs=_node_outputs("Feed"),
        parameters=(
            Variable("flow_max_m3_s", "m^3/s", "Flow, valve open", 1e-6, 10.0),
            Variable("valve_time_s", "s", "Valve lag", 0.1, 600.0),
        ),
    )


# ---------------------------------------------------------------- process node


@equation
def _no_states(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Static block: no states."""
    return zeros(0)


@equation
def process_node_g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """The mixed stream of all inlets (:func:`~plant_models.flowsheet.stream.mix`)."""
    return mix(d, 0, d.shape[0] // STREAM_SIZE)


def process_node_model(n_inlets: int) -> EquationModel:
    """Return a process node mixing ``n_inlets`` streams; outputs ``supply`` ... ``temperature``.

    Raises
    ------
    ValueError
        If ``n_inlets`` is below 1.
    """
    if n_inlets < 1:
        raise ValueError(f"a process node needs at least one inlet, got {n_inlets}")
    inlets = tuple(v for k in range(n_inlets) for v in stream_variables(f"in{k}", f"Inlet {k}"))
    outputs = _node_outputs("Node stream")
    return EquationModel(
        name="process_node",
        f=_no_states,
        g=process_node_g,
        states=(),
        inputs=(),
        disturbances=inlets,
        outputs=outputs,
        parameters=(),
    )


# ---------------------------------------------------------------- utility node


@equation
def utility_node_g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Demand (flows with sign +1), supply (sign -1) and net demand of a utility node."""
    y = zeros(3)
    for i in range(d.shape[0]):
        y[0] = y[0] + fmax(p[i], 0.0) * d[i]
        y[1] = y[1] + fmax(-p[i], 0.0) * d[i]
    y[2] = y[0] - y[1]
    return y


def utility_node_model(signs: tuple[float, ...], unit: str) -> EquationModel:
    """Return a utility node summing port flows; ``p`` holds each flow's sign.

    Parameters
    ----------
    signs : tuple of float
        +1 for a flow drawn from the node, -1 for a flow supplied to it.
    unit : str
        Balance unit of the medium (``kg/s`` for steam, ``W`` for power and
        cooling-water heat).
    """
    return EquationModel(
        name="utility_node",
        f=_no_states,
        g=utility_node_g,
        states=(),
        inputs=(),
        disturbances=tuple(
            Variable(f"flow_{i}", unit, f"Port flow {i}", 0.0, 1.0e7) for i in range(len(signs))
        ),
        outputs=(
            Variable("demand", unit, "Drawn from the node"),
            Variable("supply", unit, "Supplied to the node by units"),
            Variable("net", unit, "Demand minus supply: bought, or rejected by a slack unit"),
        ),
        parameters=tuple(
            Variable(f"sign_{i}", "dimensionless", f"Direction of flow {i}", -1.0, 1.0)
            for i in range(len(signs))
        ),
    )
