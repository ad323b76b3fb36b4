"""Mean energy flows of a run over its period, per Sankey view, from a result file.

A result file holds every model variable as a tag ``model.<name>`` in SI.
The plant's flow network (:func:`energyopt.flows.build_flow_network`, the
same declaration the GUI's diagrams use) evaluates each link from those
vectors; the file is streamed in chunks and each link's signed value is
averaged over the samples where it is finite, so memory stays flat for
long runs.  A mean of signed values keeps every node balanced (the balance
holds sample by sample, and a mean of sums is the sum of the means).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from energyopt.errors import DataError
from energyopt.progress import CancelToken, ProgressCallback, null_progress

if TYPE_CHECKING:
    from energyopt.flows import FlowNetwork
    from energyopt.flows.graph import SankeyNode, ViewInfo
    from energyopt.plantbuild import BuiltPlant

__all__ = ["MODEL_PREFIX", "MeanLink", "MeanView", "mean_flows"]

#: Prefix of the tags that hold model variables in a result file.
MODEL_PREFIX = "model."
_KINDS = (("x", "states"), ("u", "inputs"), ("d", "disturbances"), ("y", "outputs"))
_CHUNK_ROWS = 1 << 14


@dataclass(frozen=True)
class MeanLink:
    """One link of a view, averaged over the period.

    Attributes
    ----------
    key, label : str
        Link identifier and text (:class:`energyopt.flows.LinkSpec`).
    source, target : str
        Node keys in the direction of the mean flow.
    value_display : float
        Mean flow magnitude in the view's display unit. [MW, t/h, Nm3/h ...]
    reversed : bool
        Whether the mean flow runs against the declared direction.
    """

    key: str
    label: str
    source: str
    target: str
    value_display: float
    reversed: bool


@dataclass(frozen=True)
class MeanView:
    """A Sankey view with its links averaged over the period.

    Attributes
    ----------
    info : ViewInfo
        Name, label, medium kind and units of the view.
    nodes : tuple of SankeyNode
        Its nodes.
    links : tuple of MeanLink
        Its links in declaration order.
    """

    info: ViewInfo
    nodes: tuple[SankeyNode, ...]
    links: tuple[MeanLink, ...]


def _columns(built: BuiltPlant, available: set[str], path: Path) -> dict[str, list[str]]:
    missing: list[str] = []
    columns: dict[str, list[str]] = {}
    for kind, _ in _KINDS:
        names = [f"{MODEL_PREFIX}{v.name}" for v in built.model.variables(kind)]
        missing += [n for n in names if n not in available]
        columns[kind] = names
    if missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise DataError(f"{path}: model variables of the project's plant are missing: {shown}")
    return columns


def _link_sums(
    network: FlowNetwork,
    path: Path,
    progress: ProgressCallback,
    cancel: CancelToken | None,
) -> tuple[dict[str, npt.NDArray[np.float64]], dict[str, npt.NDArray[np.int64]]]:
    from energyopt.data import HistorianReader
    from energyopt.flows import FlowTrajectory

    built = network.built
    sums = {v.name: np.zeros(len(network.links[v.name])) for v in network.views}
    counts = {v.name: np.zeros(len(network.links[v.name]), dtype=np.int64) for v in network.views}
    with HistorianReader(path) as reader:
        columns = _columns(built, set(reader.tags), path)
        names = [n for kind, _ in _KINDS for n in columns[kind]]
        total = reader.n_samples
        done = 0
        for chunk in reader.iter_chunks(names, chunk_rows=_CHUNK_ROWS):
            if cancel is not None:
                cancel.raise_if_cancelled()
            arrays = {
                kind: np.column_stack([chunk.values[n] for n in columns[kind]])
                if columns[kind]
                else np.zeros((len(chunk.time_ms), 0))
                for kind, _ in _KINDS
            }
            trajectory = FlowTrajectory(
                time_ms=chunk.time_ms,
                states=arrays["x"],
                inputs=arrays["u"],
                disturbances=arrays["d"],
                outputs=arrays["y"],
            )
            with np.errstate(invalid="ignore"):
                values = network.evaluate(trajectory)
            for view, table in values.items():
                finite = np.isfinite(table)
                sums[view] += np.where(finite, table, 0.0).sum(axis=1)
                counts[view] += finite.sum(axis=1)
            done += len(chunk.time_ms)
            progress(done, total, "energy flows")
    return sums, counts


def mean_flows(
    built: BuiltPlant,
    path: str | Path,
    *,
    progress: ProgressCallback = null_progress,
    cancel: CancelToken | None = None,
) -> tuple[tuple[MeanView, ...], tuple[str, ...]]:
    """Average every link of every view of the plant over a result file.

    Parameters
    ----------
    built : BuiltPlant
        The plant of the run's project (its nominal parameters are used).
    path : str or path-like
        A result file with every model variable as ``model.<name>`` in SI.
    progress : ProgressCallback, optional
        Called with the rows read.
    cancel : CancelToken, optional
        Checked between chunks.

    Returns
    -------
    views : tuple of MeanView
        ``site`` first, then one per media node.
    excluded : tuple of str
        Media left out of the site view, each with the reason.

    Raises
    ------
    DataError
        If the file lacks a model variable of the plant or cannot be read.
    """
    from energyopt.data.units import conversion_affine
    from energyopt.flows import build_flow_network

    file = Path(path)
    network = build_flow_network(built)
    sums, counts = _link_sums(network, file, progress, cancel)
    views = []
    for info in network.views:
        scale = conversion_affine(info.unit_si, info.unit_display)[0]
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(counts[info.name] > 0, sums[info.name] / counts[info.name], np.nan)
        links = []
        for spec, mean in zip(network.links[info.name], means, strict=True):
            flipped = bool(mean < 0.0)
            source, target = (spec.target, spec.source) if flipped else (spec.source, spec.target)
            links.append(
                MeanLink(spec.key, spec.label, source, target, float(abs(mean) * scale), flipped)
            )
        views.append(MeanView(info, network.nodes[info.name], tuple(links)))
    return tuple(views), network.excluded
