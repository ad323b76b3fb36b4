"""Qt-free application state of the energy-flow view: link values over a replay's time.

:class:`FlowModel` evaluates every link of every view once for the whole
trajectory (vectorised), then serves snapshots (:class:`SankeyGraph`) for the
displayed time and emits :attr:`FlowModel.time_changed` when that time moves,
so a diagram animates along the replay clock without recomputing the plant.
:meth:`FlowModel.snapshot` serves the same snapshot as arrays (a few numpy
operations on incidence matrices built once per view), for per-frame drawing.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from psygnal import Signal

from energyopt.data.units import conversion_affine
from energyopt.errors import DataError
from energyopt.flows.graph import SankeyGraph, SankeyLink
from energyopt.flows.incidence import FlowSnapshot, ViewIncidence
from energyopt.flows.network import FlowNetwork, FlowTrajectory, build_flow_network
from energyopt.plantbuild import BuiltPlant

__all__ = ["FlowModel"]


class FlowModel:
    """Energy-flow state: a network, its link values over time and the displayed time.

    Parameters
    ----------
    network : FlowNetwork
        The plant's views (:func:`~energyopt.flows.network.build_flow_network`).
    trajectory : FlowTrajectory
        Plant vectors over time (a single sample is a trajectory of length 1).

    Raises
    ------
    DataError
        If the trajectory does not match the plant model or its times do not
        increase.
    """

    #: Emitted with the new sample index when the displayed time changes.
    time_changed = Signal(int)
    #: Emitted when a new trajectory replaces the values (the views stay).
    values_changed = Signal()

    def __init__(self, network: FlowNetwork, trajectory: FlowTrajectory) -> None:
        self._network = network
        self._scales = {
            view.name: conversion_affine(view.unit_si, view.unit_display)[0]
            for view in network.views
        }
        self._incidence = {
            view.name: ViewIncidence.from_view(network.nodes[view.name], network.links[view.name])
            for view in network.views
        }
        self._index = 0
        self._load(trajectory)

    @classmethod
    def from_built(cls, built: BuiltPlant, trajectory: FlowTrajectory) -> FlowModel:
        """Build the network of ``built`` and the model of ``trajectory`` on it.

        Parameters
        ----------
        built : BuiltPlant
            The composed plant.
        trajectory : FlowTrajectory
            Plant vectors over time.
        """
        return cls(build_flow_network(built), trajectory)

    def _load(self, trajectory: FlowTrajectory) -> None:
        time_ms = np.atleast_1d(np.asarray(trajectory.time_ms, dtype=np.int64))
        if time_ms.size > 1 and not np.all(np.diff(time_ms) > 0):
            raise DataError("energy flows: sample times must be strictly increasing")
        self._values = self._network.evaluate(trajectory)
        self._time_ms = time_ms

    # ------------------------------------------------------------ state

    @property
    def network(self) -> FlowNetwork:
        """The plant's views."""
        return self._network

    @property
    def time_ms(self) -> npt.NDArray[np.int64]:
        """Sample times, shape ``(N,)``. [ms since epoch]."""
        return self._time_ms

    @property
    def index(self) -> int:
        """Index of the displayed sample."""
        return self._index

    @property
    def current_time_ms(self) -> int:
        """Time of the displayed sample. [ms since epoch]."""
        return int(self._time_ms[self._index])

    def set_index(self, index: int) -> None:
        """Display sample ``index`` (emits :attr:`time_changed` if it moves).

        Raises
        ------
        DataError
            If ``index`` is outside ``0 .. N-1``.
        """
        n = self._time_ms.size
        if not 0 <= index < n:
            raise DataError(f"energy flows: sample index {index} outside 0..{n - 1}")
        if index != self._index:
            self._index = int(index)
            self.time_changed.emit(self._index)

    def set_time_ms(self, time_ms: int) -> None:
        """Display the last sample at or before ``time_ms`` (the first if earlier).

        Parameters
        ----------
        time_ms : int
            Replay clock time. [ms since epoch]
        """
        k = int(np.searchsorted(self._time_ms, time_ms, side="right")) - 1
        self.set_index(min(max(k, 0), self._time_ms.size - 1))

    def set_trajectory(self, trajectory: FlowTrajectory) -> None:
        """Replace the values with a new trajectory of the same plant; show its first sample.

        Emits :attr:`values_changed`, then :attr:`time_changed` if the index moved.

        Raises
        ------
        DataError
            If the trajectory does not match the plant model.
        """
        self._load(trajectory)
        self.values_changed.emit()
        moved = self._index != 0
        self._index = 0
        if moved:
            self.time_changed.emit(0)

    # ------------------------------------------------------------ values

    def link_values_si(self, view: str) -> npt.NDArray[np.float64]:
        """Return the signed values of every link of a view over time.

        Parameters
        ----------
        view : str
            View name.

        Returns
        -------
        numpy.ndarray
            Shape ``(n_links, N)``, positive in each link's declared direction. [view SI unit]

        Raises
        ------
        DataError
            If there is no such view.
        """
        self._network.view(view)
        return self._values[view]

    def display_scale(self, view: str) -> float:
        """Return the factor from a view's SI unit to its display unit.

        Raises
        ------
        DataError
            If there is no such view.
        """
        self._network.view(view)
        return self._scales[view]

    def incidence(self, view: str) -> ViewIncidence:
        """Return a view's node and link index arrays and incidence matrices.

        Raises
        ------
        DataError
            If there is no such view.
        """
        self._network.view(view)
        return self._incidence[view]

    def snapshot(self, view: str, index: int | None = None) -> FlowSnapshot:
        """Return a view at a sample as arrays (the per-frame path of a diagram).

        Parameters
        ----------
        view : str
            View name (``site`` or a media-node name).
        index : int, optional
            Sample index (default: the displayed one).

        Returns
        -------
        FlowSnapshot
            Link magnitudes, directions and node totals in the view's order.

        Raises
        ------
        DataError
            If there is no such view or sample.
        """
        info = self._network.view(view)
        k = self._checked_index(index)
        return self._incidence[view].snapshot(info, int(self._time_ms[k]), self._values[view][:, k])

    def _checked_index(self, index: int | None) -> int:
        k = self._index if index is None else index
        if not 0 <= k < self._time_ms.size:
            raise DataError(f"energy flows: sample index {k} outside 0..{self._time_ms.size - 1}")
        return int(k)

    def graph(self, view: str, index: int | None = None) -> SankeyGraph:
        """Return the snapshot of a view at a sample (default: the displayed one).

        Parameters
        ----------
        view : str
            View name (``site`` or a media-node name).
        index : int, optional
            Sample index.

        Returns
        -------
        SankeyGraph
            Links with non-negative values, reversed where the signed flow is negative.

        Raises
        ------
        DataError
            If there is no such view or sample.
        """
        info = self._network.view(view)
        k = self._checked_index(index)
        scale = self._scales[view]
        column = self._values[view][:, k]
        links = []
        for spec, value in zip(self._network.links[view], column, strict=True):
            flipped = bool(value < 0.0)
            source, target = (spec.target, spec.source) if flipped else (spec.source, spec.target)
            magnitude = float(abs(value))
            links.append(
                SankeyLink(
                    spec.key, source, target, magnitude, magnitude * scale, spec.label, flipped
                )
            )
        return SankeyGraph(info, int(self._time_ms[k]), self._network.nodes[view], tuple(links))
