"""Stage functions of a composed plant: one per group of like units, combined in a flat tree.

Private to :mod:`plant_models.plant.compose`.  A *stage* evaluates every unit
of one group (same model functions, vector sizes and slack role) and writes
its derivatives, outputs and port flows into the plant's arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from plant_models.core.equations import equation
from plant_models.core.mathfuncs import zeros

__all__ = ["combine_stages", "make_stage"]


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
