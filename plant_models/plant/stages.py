"""Stage functions of a composed plant: one per group of like units, combined in a flat tree.

Private to :mod:`plant_models.plant.compose`; :func:`make_evaluate` wraps the
stage chain into the plant's ``f`` and ``g``.  A *stage* evaluates every unit
of one group (same model functions, vector sizes and slack role) and writes
its derivatives, outputs and port flows into the plant's arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from plant_models.core.equations import equation
from plant_models.core.mathfuncs import zeros

__all__ = ["combine_stages", "make_evaluate", "make_stage"]


@equation
def _gather(source: Any, index_map: Any, slack: Any) -> Any:
    """Return ``source[index_map]``, taking ``slack[-k - 1]`` where ``k < 0``."""
    out = zeros(index_map.shape[0])
    for i in range(index_map.shape[0]):
        k = int(index_map[i])
        if k >= 0:
            out[i] = source[k]
        else:
            out[i] = slack[-k - 1]
    return out


@equation
def _no_stage(
    x: Any, u: Any, d: Any, p: Any, slack: Any, phase: int, dxdt: Any, y: Any, flows: Any
) -> Any:
    """End of the stage chain: nothing to evaluate."""
    return 0


def make_stage(
    unit_f: Callable[..., Any],
    unit_g: Callable[..., Any],
    is_slack_group: int,
    x_range: np.ndarray,
    p_range: np.ndarray,
    y_offset: np.ndarray,
    u_map: np.ndarray,
    d_map: np.ndarray,
    flow_kind: np.ndarray,
    flow_index: np.ndarray,
    flow_position: np.ndarray,
) -> Callable[..., Any]:
    """Return a stage evaluating one group of like units.

    A group is the units sharing one model (same functions and vector sizes)
    and slack role; each table has one row per unit, so the number of
    compiled stages is the number of groups, not of units.  In phase 0 the
    groups without slack variables are evaluated (their port flows feed the
    balances); in phase 1 the slack groups, whose slack values are then
    known.  ``flow_kind`` codes: 0 output, 1 input, 2 disturbance, -1 padding.
    """

    @equation
    def stage(
        x: Any, u: Any, d: Any, p: Any, slack: Any, phase: int, dxdt: Any, y: Any, flows: Any
    ) -> Any:
        if phase == is_slack_group:
            for r in range(x_range.shape[0]):
                x0 = int(x_range[r, 0])
                nx = int(x_range[r, 1]) - x0
                p0 = int(p_range[r, 0])
                p1 = int(p_range[r, 1])
                xk = zeros(nx)
                for i in range(nx):
                    xk[i] = x[x0 + i]
                uk = _gather(u, u_map[r], slack)
                dk = _gather(d, d_map[r], slack)
                pk = zeros(p1 - p0)
                for i in range(p1 - p0):
                    pk[i] = p[p0 + i]
                fk = unit_f(xk, uk, dk, pk)
                yk = unit_g(xk, uk, dk, pk)
                for i in range(nx):
                    dxdt[x0 + i] = fk[i]
                y0 = int(y_offset[r])
                for i in range(yk.shape[0]):
                    y[y0 + i] = yk[i]
                for c in range(flow_kind.shape[1]):
                    kind = int(flow_kind[r, c])
                    j = int(flow_index[r, c])
                    position = int(flow_position[r, c])
                    if kind == 0:
                        flows[position] = yk[j]
                    elif kind == 1:
                        flows[position] = uk[j]
                    elif kind == 2:
                        flows[position] = dk[j]
        return 0

    return stage


#: Stages one combining function calls.  Numba links every callee's code into
#: its caller and optimises the result again, so a chain of n stages costs
#: O(n^2) compile time (40 s for the 14 stage groups of the steelworks); a
#: flat fan-out of up to 16 stages per level costs O(n log16 n) (a few s).
_FAN_OUT = 16


def _make_combined(stages: Sequence[Callable[..., Any]]) -> Callable[..., Any]:
    """Return one stage calling up to :data:`_FAN_OUT` stages in order."""
    s = list(stages) + [_no_stage] * (_FAN_OUT - len(stages))
    s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15 = s

    @equation
    def combined(
        x: Any, u: Any, d: Any, p: Any, slack: Any, phase: int, dxdt: Any, y: Any, flows: Any
    ) -> Any:
        s0(x, u, d, p, slack, phase, dxdt, y, flows)
        s1(x, u, d, p, slack, phase, dxdt, y, flows)
        s2(x, u, d, p, slack, phase, dxdt, y, flows)
        s3(x, u, d, p, slack, phase, dxdt, y, flows)
        s4(x, u, d, p, slack, phase, dxdt, y, flows)
        s5(x, u, d, p, slack, phase, dxdt, y, flows)
        s6(x, u, d, p, slack, phase, dxdt, y, flows)
        s7(x, u, d, p, slack, phase, dxdt, y, flows)
        s8(x, u, d, p, slack, phase, dxdt, y, flows)
        s9(x, u, d, p, slack, phase, dxdt, y, flows)
        s10(x, u, d, p, slack, phase, dxdt, y, flows)
        s11(x, u, d, p, slack, phase, dxdt, y, flows)
        s12(x, u, d, p, slack, phase, dxdt, y, flows)
        s13(x, u, d, p, slack, phase, dxdt, y, flows)
        s14(x, u, d, p, slack, phase, dxdt, y, flows)
        s15(x, u, d, p, slack, phase, dxdt, y, flows)
        return 0

    return combined


def combine_stages(stages: Sequence[Callable[..., Any]]) -> Callable[..., Any]:
    """Return one stage running ``stages`` in order, as a tree of fan-out :data:`_FAN_OUT`."""
    if not stages:
        return _no_stage
    if len(stages) == 1:
        return stages[0]
    while len(stages) > _FAN_OUT:
        stages = [_make_combined(stages[i : i + _FAN_OUT]) for i in range(0, len(stages), _FAN_OUT)]
    return _make_combined(stages)


# ---------------------------------------------------------------- composed functions


def make_evaluate(
    chain: Callable[..., Any],
    n_x: int,
    n_y_units: int,
    n_nodes: int,
    n_flows: int,
    connection_node: np.ndarray,
    connection_sign: np.ndarray,
    slack_node: np.ndarray,
    slack_sign: np.ndarray,
    n_d: int,
    d_from_x: np.ndarray,
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Return the composed ``f`` and ``g`` around a stage chain.

    The stages read disturbances from ``d`` extended by the states listed in
    ``d_from_x`` (node heating values made by a mixing station).
    """

    @equation
    def evaluate(x: Any, u: Any, d: Any, p: Any) -> Any:
        dxdt = zeros(n_x)
        y = zeros(n_y_units + 3 * n_nodes)
        flows = zeros(n_flows)
        slack = zeros(slack_node.shape[0])
        d_ext = zeros(n_d + d_from_x.shape[0])
        for i in range(n_d):
            d_ext[i] = d[i]
        for i in range(d_from_x.shape[0]):
            d_ext[n_d + i] = x[int(d_from_x[i])]
        # The phase is computed, not written as 0 and 1: numba would type the
        # literals as two constants and compile every stage twice.
        phase = x.shape[0] * 0
        chain(x, u, d_ext, p, slack, phase, dxdt, y, flows)
        net = zeros(n_nodes)
        supply = zeros(n_nodes)
        demand = zeros(n_nodes)
        for c in range(n_flows):
            j = int(connection_node[c])
            if connection_sign[c] > 0.0:
                supply[j] = supply[j] + flows[c]
            else:
                demand[j] = demand[j] + flows[c]
        for j in range(n_nodes):
            net[j] = supply[j] - demand[j]
        for s in range(slack_node.shape[0]):
            slack[s] = slack_sign[s] * net[int(slack_node[s])]
        chain(x, u, d_ext, p, slack, phase + 1, dxdt, y, flows)
        for j in range(n_nodes):
            y[n_y_units + j] = net[j]
            y[n_y_units + n_nodes + j] = supply[j]
            y[n_y_units + 2 * n_nodes + j] = demand[j]
        return dxdt, y

    @equation
    def plant_f(x: Any, u: Any, d: Any, p: Any) -> Any:
        dxdt, _ = evaluate(x, u, d, p)
        return dxdt

    @equation
    def plant_g(x: Any, u: Any, d: Any, p: Any) -> Any:
        _, y = evaluate(x, u, d, p)
        return y

    return plant_f, plant_g
