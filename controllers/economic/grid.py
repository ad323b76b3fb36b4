"""A coarser NLP grid late in the economic MPC's horizon, seen as the full one.

With ``EconomicMPCSettings.grid`` the NLP's intervals are not all one
control interval long: the first hours keep the control interval (the move
the plant receives, the holders' next swings) and the rest of the day is
covered by intervals of several control intervals (the tariff's blocks and
the holders' inventory only need the hour).  Measured on the demo
steelworks (24 h at 15 min): the KKT factorisation (MUMPS) is ~94 % of a
solve and grows with the number of intervals; 4 h at 15 min then 1 h
intervals is 36 intervals instead of 96.

Inside a coarse interval the plan is one value (as with move blocking), the
disturbances and the price are the interval's means of the control-interval
forecast (the means conserve mass and energy, as
:func:`~controllers.economic.horizon.interval_means` does for the record),
and bands and hard limits are checked at its end against the tightest of
its control intervals' bounds.

:class:`GridSolver` solves the coarse NLP but is called with, and returns,
vectors of the full (one control interval per NLP interval) layout, like
:class:`~controllers.economic.blocking.BlockedSolver`: the controller's warm
start (shift by one control interval), evaluation and reporting are
unchanged.  Full vectors are mapped to the coarse grid per block of ``z`` and
``g`` (:class:`BlockKind`) and back:

* a plan, slack or multiplier is repeated over a coarse interval's control
  intervals, and a coarse value is the mean of its control intervals';
* a state is interpolated linearly in time between the coarse interval ends
  (the state at a control interval's end is then the right warm start after
  a shift), and a coarse value is the one at its last control interval;
* a move row exists only at a coarse interval's first control interval (the
  plan is held inside): its bound is that interval's rate limit, its
  multiplier goes back there, and a coarse multiplier is the sum of its
  control intervals' (so that a shifted one is not lost);
* bounds are the tightest over the coarse interval's control intervals.

For every kind, mapping a full vector expanded from a coarse one back gives
the coarse one exactly (tested).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import casadi as ca
import numpy as np

__all__ = ["BlockKind", "GridSolver", "HorizonGrid", "coarse_grid"]


def coarse_grid(horizon: int, fine: int, factor: int) -> tuple[int, ...]:
    """Interval lengths: ``fine`` intervals of one, then of ``factor``, the last cut.

    Parameters
    ----------
    horizon : int
        Control intervals in the horizon ``N`` (>= 1).
    fine : int
        Leading NLP intervals one control interval long (>= 1).
    factor : int
        Length of the later NLP intervals in control intervals (>= 1).

    Returns
    -------
    tuple of int
        Lengths summing to ``horizon``.

    Raises
    ------
    ValueError
        For a horizon, ``fine`` or ``factor`` below 1.
    """
    if horizon < 1 or fine < 1 or factor < 1:
        raise ValueError(f"need horizon, fine and factor >= 1, got {horizon}, {fine}, {factor}")
    out = [1] * min(fine, horizon)
    left = horizon - len(out)
    while left > 0:
        out.append(min(factor, left))
        left -= out[-1]
    return tuple(out)


class BlockKind(enum.Enum):
    """How a block of ``z`` or ``g`` maps between the full and the coarse grid."""

    #: Held over a coarse interval: plans, slacks and their rows.
    HELD = "held"
    #: States: interpolated between coarse interval ends.
    STATE = "state"
    #: MV moves: one row at a coarse interval's first control interval.
    MOVE = "move"


@dataclass(frozen=True)
class HorizonGrid:
    """The coarse grid's intervals in control intervals.

    Parameters
    ----------
    lengths : tuple of int
        Length of each NLP interval in control intervals (all >= 1).
    """

    lengths: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.lengths or any(int(m) != m or m < 1 for m in self.lengths):
            raise ValueError(f"grid lengths must be integers >= 1, got {self.lengths}")

    @property
    def n_full(self) -> int:
        """Control intervals ``N``."""
        return int(sum(self.lengths))

    @property
    def n_coarse(self) -> int:
        """NLP intervals."""
        return len(self.lengths)

    @cached_property
    def first(self) -> np.ndarray:
        """First control interval of each NLP interval, shape ``(n_coarse,)``."""
        return np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(int)

    @cached_property
    def owner(self) -> np.ndarray:
        """NLP interval of each control interval, shape ``(N,)``."""
        return np.repeat(np.arange(self.n_coarse), self.lengths)

    @cached_property
    def mean_matrix(self) -> np.ndarray:
        """``(N, n_coarse)``: a row of control-interval values times it is the coarse means."""
        out = np.zeros((self.n_full, self.n_coarse))
        out[np.arange(self.n_full), self.owner] = 1.0 / np.asarray(self.lengths)[self.owner]
        return out

    @cached_property
    def _weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Interpolation of the states: previous coarse end, weight of the own end."""
        j = np.arange(self.n_full)
        k = self.owner
        lengths = np.asarray(self.lengths)
        w = (j - self.first[k] + 1) / lengths[k]
        prev = np.maximum(k - 1, 0)
        # The first NLP interval has no earlier end here: its own end is held.
        w = np.where(k == 0, 1.0, w)
        return prev, w

    def expand(self, coarse: np.ndarray, kind: BlockKind) -> np.ndarray:
        """Full values ``(N, e)`` from coarse ones ``(n_coarse, e)``.

        Parameters
        ----------
        coarse : numpy.ndarray
            One row per NLP interval.
        kind : BlockKind
            How the block maps.

        Returns
        -------
        numpy.ndarray
            One row per control interval.
        """
        k = self.owner
        if kind is BlockKind.STATE:
            prev, w = self._weights
            return (1.0 - w)[:, None] * coarse[prev] + w[:, None] * coarse[k]
        if kind is BlockKind.MOVE:
            out = np.zeros((self.n_full, coarse.shape[1]))
            out[self.first] = coarse
            return out
        return coarse[k]

    def restrict(
        self, full: np.ndarray, kind: BlockKind, *, multiplier: bool = False
    ) -> np.ndarray:
        """Coarse values ``(n_coarse, e)`` from full ones ``(N, e)``.

        Parameters
        ----------
        full : numpy.ndarray
            One row per control interval.
        kind : BlockKind
            How the block maps.
        multiplier : bool
            The values are multipliers (a move's is the sum over the interval).

        Returns
        -------
        numpy.ndarray
            One row per NLP interval.
        """
        if kind is BlockKind.STATE:
            return full[self.first + np.asarray(self.lengths) - 1]
        if kind is BlockKind.MOVE:
            if multiplier:
                return np.add.reduceat(full, self.first, axis=0)
            return full[self.first]
        return np.add.reduceat(full, self.first, axis=0) / np.asarray(self.lengths)[:, None]

    def tightest(self, full: np.ndarray, kind: BlockKind, *, lower: bool) -> np.ndarray:
        """Coarse bounds ``(n_coarse, e)``: the tightest of each interval's (a move's at its start).

        Parameters
        ----------
        full : numpy.ndarray
            Bounds per control interval, shape ``(N, e)``.
        kind : BlockKind
            How the block maps.
        lower : bool
            Lower bounds (the largest is the tightest), else upper.

        Returns
        -------
        numpy.ndarray
        """
        if kind is BlockKind.MOVE:
            return full[self.first]
        if kind is BlockKind.STATE:
            return full[self.first + np.asarray(self.lengths) - 1]
        reduce = np.maximum if lower else np.minimum
        return reduce.reduceat(full, self.first, axis=0)


class GridSolver:
    """ipopt on the coarse-grid NLP, called with and returning full-grid vectors.

    Parameters
    ----------
    nlp : dict
        The coarse casadi NLP ``{"x", "p", "f", "g"}`` (same parameters as the
        full one).
    opts : dict
        ``nlpsol`` options (``expand``, ``ipopt`` ...).
    name : str
        Name of the casadi solver.
    grid : HorizonGrid
        The NLP intervals.
    z_blocks, g_blocks : list of tuple of (int, BlockKind)
        Entries per interval and kind of each block of ``z`` and ``g``, in
        order (each block's intervals are contiguous).
    """

    def __init__(
        self,
        nlp: dict[str, Any],
        opts: dict[str, Any],
        name: str,
        grid: HorizonGrid,
        z_blocks: list[tuple[int, BlockKind]],
        g_blocks: list[tuple[int, BlockKind]],
    ) -> None:
        self.grid = grid
        self._z_blocks = z_blocks
        self._g_blocks = g_blocks
        n_c = grid.n_coarse
        if (
            int(nlp["x"].numel()) != sum(e for e, _ in z_blocks) * n_c
            or int(nlp["g"].numel()) != sum(e for e, _ in g_blocks) * n_c
        ):
            raise ValueError("the coarse NLP does not match its block layout")
        self.solver = ca.nlpsol(name, "ipopt", nlp, opts)

    def _map(
        self, values: np.ndarray, blocks: list[tuple[int, BlockKind]], n_from: int, fn: Any
    ) -> np.ndarray:
        """Apply ``fn(part (n_from, e), kind)`` to each block; concatenate the results."""
        out, start = [], 0
        for size, kind in blocks:
            part = values[start : start + size * n_from].reshape(n_from, size)
            out.append(np.asarray(fn(part, kind)).ravel())
            start += size * n_from
        return np.concatenate(out)

    def stats(self) -> dict[str, Any]:
        """Return the statistics of the last solve (casadi's ``stats()``)."""
        return dict(self.solver.stats())

    def __call__(self, **args: Any) -> dict[str, np.ndarray]:
        """Solve from full-grid arguments; return full-grid ``x``, ``f``, ``lam_x``, ``lam_g``."""
        g, N, n_c = self.grid, self.grid.n_full, self.grid.n_coarse

        def vec(key: str) -> np.ndarray:
            return np.asarray(args[key], dtype=float).ravel()

        def down(key: str, blocks: list[tuple[int, BlockKind]], mult: bool = False) -> np.ndarray:
            return self._map(vec(key), blocks, N, lambda v, k: g.restrict(v, k, multiplier=mult))

        def bound(key: str, blocks: list[tuple[int, BlockKind]], lower: bool) -> np.ndarray:
            return self._map(vec(key), blocks, N, lambda v, k: g.tightest(v, k, lower=lower))

        zb, gb = self._z_blocks, self._g_blocks
        call: dict[str, Any] = {
            "x0": down("x0", zb),
            "p": vec("p"),
            "lbx": bound("lbx", zb, True),
            "ubx": bound("ubx", zb, False),
            "lbg": bound("lbg", gb, True),
            "ubg": bound("ubg", gb, False),
        }
        if "lam_x0" in args and "lam_g0" in args:
            call["lam_x0"] = down("lam_x0", zb, True)
            call["lam_g0"] = down("lam_g0", gb, True)
        out = self.solver(**call)

        def up(key: str, blocks: list[tuple[int, BlockKind]]) -> np.ndarray:
            coarse = np.asarray(out[key], dtype=float).ravel()
            return self._map(coarse, blocks, n_c, g.expand)

        return {
            "x": up("x", zb),
            "f": np.asarray(out["f"], dtype=float),
            "lam_x": up("lam_x", zb),
            "lam_g": up("lam_g", gb),
        }
