"""Move blocking of the economic MPC: the MVs held over blocks of intervals.

With ``EconomicMPCSettings.move_blocks`` the MVs may move only at the first
interval of each block and are held inside it, so far fewer MV values are
decided (``n_blocks`` instead of ``N`` per MV) where the plan matters less,
at the end of the horizon.  The block NLP of
:mod:`controllers.economic.formulation` is kept: :class:`BlockedSolver`
solves a reduced NLP whose decision vector has one MV value per block
(``z = T z_r`` with ``T`` the sparse expansion) and whose rows lack the
moves inside blocks (identically zero), and maps vectors between the two
layouts, so the controller's warm start, evaluation and reporting are
unchanged.

The blocks are decision variables, not equality rows: holding ``u_k =
u_{k-1}`` by zero-move rows on the full NLP was measured on the demo
steelworks (24 h / 15 min) to make ipopt fail in every rolling solve (300
iterations), the MV bounds of every interval of a block being then linearly
dependent active constraints.  Blocks must leave free the MVs that close a
balance whose other terms change every interval: on the demo steelworks,
blocking the steam-side MVs (pressure-reducing stations, turbines) or the
mixed-gas make-up made every 24 h solve fail (300 iterations); with those
exempt (``move_blocks_exempt``) the blocked plan cost 0.28 % more than the
free one over the horizon.
"""

from __future__ import annotations

from typing import Any

import casadi as ca
import numpy as np
import scipy.sparse as sp

__all__ = [
    "BlockedSolver",
    "block_of_interval",
    "block_starts",
    "blocked_limits",
    "growing_move_blocks",
    "mv_blocks",
]


def growing_move_blocks(horizon: int, repeat: int = 4) -> tuple[int, ...]:
    """Return block lengths that double along the horizon: ``repeat`` of 1, of 2, of 4, ...

    The last block is cut to end with the horizon.

    Parameters
    ----------
    horizon : int
        Number of intervals ``N`` (>= 1).
    repeat : int
        Blocks of each length (>= 1).

    Returns
    -------
    tuple of int
        Block lengths summing to ``horizon``.

    Raises
    ------
    ValueError
        For ``horizon < 1`` or ``repeat < 1``.
    """
    if horizon < 1 or repeat < 1:
        raise ValueError(f"need horizon >= 1 and repeat >= 1, got {horizon}, {repeat}")
    out: list[int] = []
    length, left = 1, horizon
    while left > 0:
        for _ in range(repeat):
            if left <= 0:
                break
            out.append(min(length, left))
            left -= out[-1]
        length *= 2
    return tuple(out)


def block_of_interval(move_blocks: tuple[int, ...], horizon: int) -> np.ndarray:
    """Return the block of each interval; the last block runs to the end of the horizon.

    Parameters
    ----------
    move_blocks : tuple of int
        Block lengths in intervals (``()``: one block per interval).
    horizon : int
        Number of intervals ``N``.

    Returns
    -------
    numpy.ndarray of int
        Shape ``(N,)``, non-decreasing from 0.
    """
    if not move_blocks:
        return np.arange(horizon)
    lengths = np.asarray(move_blocks, dtype=int)
    ends = np.cumsum(lengths)
    return np.minimum(np.searchsorted(ends, np.arange(horizon), side="right"), lengths.size - 1)


def mv_blocks(
    move_blocks: tuple[int, ...], horizon: int, mv_names: tuple[str, ...], exempt: tuple[str, ...]
) -> np.ndarray:
    """Return the block of each interval for each MV; an exempt MV moves every interval.

    Parameters
    ----------
    move_blocks : tuple of int
        Block lengths in intervals (``()``: no blocking).
    horizon : int
        Number of intervals ``N``.
    mv_names : tuple of str
        The MVs, in plan column order.
    exempt : tuple of str
        MVs not blocked (those that keep an equality balance, say).

    Returns
    -------
    numpy.ndarray of int
        Shape ``(N, n_mv)``, non-decreasing from 0 down each column.
    """
    blocked = block_of_interval(move_blocks, horizon)
    free = np.arange(horizon)
    return np.column_stack([free if name in exempt else blocked for name in mv_names])


def block_starts(block: np.ndarray) -> np.ndarray:
    """Return where a block starts (a move is allowed), same shape as ``block``.

    Parameters
    ----------
    block : numpy.ndarray of int
        Block of each interval (and MV), shape ``(N,)`` or ``(N, n_mv)``.

    Returns
    -------
    numpy.ndarray of bool
    """
    out = np.ones(block.shape, dtype=bool)
    out[1:] = block[1:] != block[:-1]
    return out


def blocked_limits(
    low: np.ndarray, high: np.ndarray, rate: np.ndarray, block: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-interval MV limits of a blocked plan.

    Inside a block the limits are the intersection of its intervals' (one
    value must satisfy them all) and the rate limit is zero except at the
    block's first interval.

    Parameters
    ----------
    low, high, rate : numpy.ndarray
        MV limits and largest moves per interval, shape ``(N, n_mv)``. [SI]
    block : numpy.ndarray of int
        Block of each interval for each MV (:func:`mv_blocks`), shape ``(N, n_mv)``.

    Returns
    -------
    tuple of numpy.ndarray
        ``(low, high, rate)``, each of shape ``(N, n_mv)``; ``low > high``
        where the limits inside a block conflict. [SI]
    """
    low_b, high_b, rate_b = low.copy(), high.copy(), rate.copy()
    for i in range(block.shape[1]):
        for b in np.unique(block[:, i]):
            rows = block[:, i] == b
            low_b[rows, i] = low[rows, i].max()
            high_b[rows, i] = high[rows, i].min()
    rate_b[~block_starts(block)] = 0.0
    return low_b, high_b, rate_b


class BlockedSolver:
    """ipopt on the move-blocked NLP, called with and returning full-NLP vectors.

    Parameters
    ----------
    nlp : dict
        The full (unblocked) casadi NLP ``{"x", "p", "f", "g"}``; its first
        ``N * n_mv`` decision entries are the scaled MVs, interval by
        interval.
    opts : dict
        ``nlpsol`` options (``expand``, ``ipopt`` ...).
    name : str
        Name of the casadi solver.
    n_mv : int
        Number of MVs.
    block : numpy.ndarray of int
        Block of each interval for each MV (:func:`mv_blocks`), shape ``(N, n_mv)``.
    move_rows : int
        Row of the first MV move in the full NLP (moves interval by
        interval, ``n_mv`` each).
    """

    def __init__(
        self,
        nlp: dict[str, Any],
        opts: dict[str, Any],
        name: str,
        n_mv: int,
        block: np.ndarray,
        move_rows: int,
    ) -> None:
        N = block.shape[0]
        n_z, n_g = int(nlp["x"].numel()), int(nlp["g"].numel())
        n_u = N * n_mv
        self.n_z, self.n_g = n_z, n_g
        # Reduced MV entries: one per (MV, block), numbered in the full order.
        starts_2d = block_starts(block)
        starts = starts_2d.ravel()  # interval-major, as z orders the MVs
        number = np.cumsum(starts) - 1  # reduced column of each block start
        first_k = np.maximum.accumulate(np.where(starts_2d, np.arange(N)[:, None], 0), axis=0)
        self._u_col = number[(first_k * n_mv + np.arange(n_mv)[None, :]).ravel()]
        n_red_u = int(starts.sum())
        n_red = n_red_u + n_z - n_u
        cols = np.concatenate([self._u_col, n_red_u + np.arange(n_z - n_u)])
        expand = sp.csc_matrix((np.ones(n_z), (np.arange(n_z), cols)), shape=(n_z, n_red))
        expand.sort_indices()
        self._expand = expand
        self._n_u, self._n_red_u = n_u, n_red_u
        # The first full entry of each reduced one (where its multiplier is put back).
        self._first = expand.indices[expand.indptr[:-1]]
        # The reduced value of a block: the mean of its intervals' (shifted warm starts).
        counts = np.asarray(expand.sum(axis=0)).ravel()
        self._mean = sp.diags(1.0 / counts) @ expand.T
        keep = np.ones(n_g, dtype=bool)
        keep[move_rows + np.flatnonzero(~starts)] = False
        self._keep = np.flatnonzero(keep)
        z_r = ca.MX.sym("z_blocked", n_red)
        full = ca.Function("economic_full", [nlp["x"], nlp["p"]], [nlp["f"], nlp["g"]])
        T = ca.DM(ca.Sparsity(n_z, n_red, expand.indptr.tolist(), expand.indices.tolist()), 1.0)
        f_r, g_r = full(T @ z_r, nlp["p"])
        reduced = {"x": z_r, "p": nlp["p"], "f": f_r, "g": g_r[self._keep.tolist()]}
        self.solver = ca.nlpsol(name, "ipopt", reduced, opts)

    def _reduce(self, values: np.ndarray, combine: Any) -> np.ndarray:
        """Combine each block's MV entries (``np.maximum``/``np.minimum``); the rest as is."""
        init = -np.inf if combine is np.maximum else np.inf
        u = np.full(self._n_red_u, init)
        combine.at(u, self._u_col, values[: self._n_u])
        return np.concatenate([u, values[self._n_u :]])

    def stats(self) -> dict[str, Any]:
        """Return the statistics of the last solve (casadi's ``stats()``)."""
        return dict(self.solver.stats())

    def __call__(self, **args: Any) -> dict[str, np.ndarray]:
        """Solve from full-NLP arguments; return full-NLP ``x``, ``f``, ``lam_x``, ``lam_g``.

        The bounds of a block's MV are the intersection of its intervals'
        (see :func:`blocked_limits`); multipliers map back onto the first
        interval of each block and zero for the rows inside blocks.
        """
        ex, keep = self._expand, self._keep

        def vec(key: str) -> np.ndarray:
            return np.asarray(args[key], dtype=float).ravel()

        call: dict[str, Any] = {
            "x0": self._mean @ vec("x0"),
            "p": vec("p"),
            "lbx": self._reduce(vec("lbx"), np.maximum),
            "ubx": self._reduce(vec("ubx"), np.minimum),
            "lbg": vec("lbg")[keep],
            "ubg": vec("ubg")[keep],
        }
        if "lam_x0" in args and "lam_g0" in args:
            call["lam_x0"] = ex.T @ vec("lam_x0")
            call["lam_g0"] = vec("lam_g0")[keep]
        out = self.solver(**call)
        z_r = np.asarray(out["x"], dtype=float).ravel()
        lam_x = np.zeros(self.n_z)
        lam_x[self._first] = np.asarray(out["lam_x"], dtype=float).ravel()
        lam_g = np.zeros(self.n_g)
        lam_g[keep] = np.asarray(out["lam_g"], dtype=float).ravel()
        return {
            "x": ex @ z_r,
            "f": np.asarray(out["f"], dtype=float),
            "lam_x": lam_x,
            "lam_g": lam_g,
        }
