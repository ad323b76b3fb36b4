"""Compose blocks joined by signal wires into one :class:`EquationModel`.

A flowsheet is a set of *blocks* (a unit's equation model with its
parameter vector: process units, process nodes, utility units, PID loops)
and *wires*: each wire feeds an input or disturbance of one block from an
output of another (a stream signal, a measurement to a controller, a
controller output to a valve).  Inputs and disturbances left unwired become
the plant's inputs and disturbances; every block output is a plant output.
Names are ``<block>.<variable>``.

Evaluation order
----------------
Outputs may depend directly on inputs (a mixer, a PID law), so blocks are
evaluated in an order found when composing: the structural dependence of each
block output on the block's inputs is read from the sparsity of its casadi
Jacobian, and blocks are scheduled in layers such that an output is computed
after every output it depends on.  A block whose outputs become final in
several layers is evaluated in each of them (evaluation is deterministic, so
the last pass gives the exact value; nothing is iterated).  A cycle of direct
dependences is an algebraic loop, which the flowsheet refuses: put a holdup
or an actuator lag in the loop.  Recycles through holdups are ordinary
states, so a recycle needs no tear stream.

The composed ``f`` and ``g`` are :func:`~plant_models.core.equations.equation`
closures over the blocks' functions and constant index tables, so one source
compiles to casadi and to numba (the simulators use straight-line kernels
generated from the casadi graph, :mod:`plant_models.core.codegen`, in which the
repeated block evaluations of the layered schedule are shared).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from plant_models.core.equations import EquationModel, Variable, equation, to_casadi
from plant_models.core.errors import EquationError
from plant_models.core.mathfuncs import zeros

__all__ = ["Block", "ComposedModel", "Wire", "compose_blocks"]


@dataclass(frozen=True)
class Block:
    """One block of a flowsheet.

    Attributes
    ----------
    name : str
        Identifier, unique in the flowsheet (``reactor``, ``tic_102``).
    model : EquationModel
        The block's equations.
    parameters : numpy.ndarray
        Its parameter vector, in the order of ``model.parameters``. [SI]
    """

    name: str
    model: EquationModel
    parameters: np.ndarray

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise EquationError(f"block name {self.name!r} is not an identifier")
        p = np.asarray(self.parameters, dtype=np.float64)
        if p.shape != (len(self.model.parameters),):
            raise EquationError(
                f"block {self.name}: {p.shape[0] if p.ndim == 1 else p.shape} parameters "
                f"given, model {self.model.name} has {len(self.model.parameters)}"
            )
        object.__setattr__(self, "parameters", p)


@dataclass(frozen=True)
class Wire:
    """Feed ``target`` (``block.input`` or ``block.disturbance``) from ``source``.

    ``source`` is ``block.output``, or ``block.input`` of an unwired input
    (the same plant input then drives both).
    """

    source: str
    target: str


@dataclass(frozen=True)
class ComposedModel:
    """A composed flowsheet.

    Attributes
    ----------
    model : EquationModel
        The composed model; vectors named ``<block>.<variable>``.
    blocks : tuple of Block
        The blocks, in state and parameter order.
    parameters : numpy.ndarray
        The composed parameter vector (the blocks' vectors concatenated). [SI]
    schedule : tuple of tuple of str
        Blocks evaluated in each layer of the output evaluation.
    """

    model: EquationModel
    blocks: tuple[Block, ...]
    parameters: np.ndarray
    schedule: tuple[tuple[str, ...], ...]

    def parameter_vector(self, overrides: Mapping[str, float] | None = None) -> np.ndarray:
        """Return a copy of :attr:`parameters` with ``<block>.<parameter>`` entries replaced."""
        p = self.parameters.copy()
        for name, value in (overrides or {}).items():
            p[self.model.index("p", name)] = float(value)
        return p


# ---------------------------------------------------------------- composed functions


@equation
def _no_stage(x: Any, p: Any, sig: Any, dxdt: Any, phase: int) -> Any:
    """End of the stage chain: nothing to evaluate."""
    return 0


def _make_stage(
    previous: Callable[..., Any],
    unit_f: Callable[..., Any],
    unit_g: Callable[..., Any],
    f_phase: int,
    active: np.ndarray,
    x_range: np.ndarray,
    p_range: np.ndarray,
    u_map: np.ndarray,
    d_map: np.ndarray,
    y_offset: np.ndarray,
) -> Callable[..., Any]:
    """Return a stage evaluating the blocks sharing one model, after ``previous``.

    Each table has one row per block; ``active[r, phase]`` says whether block
    ``r`` is evaluated in ``phase``.  In the output phases a block writes its
    outputs into the signal vector ``sig``; in the last phase (``f_phase``)
    blocks with states write ``dxdt``.  One stage per model keeps the number
    of compiled closures small whatever the number of blocks and layers.
    """

    @equation
    def stage(x: Any, p: Any, sig: Any, dxdt: Any, phase: int) -> Any:
        previous(x, p, sig, dxdt, phase)
        for r in range(x_range.shape[0]):
            if int(active[r, phase]) == 1:
                x0 = int(x_range[r, 0])
                nx = int(x_range[r, 1]) - x0
                p0 = int(p_range[r, 0])
                n_p = int(p_range[r, 1]) - p0
                xk = zeros(nx)
                for i in range(nx):
                    xk[i] = x[x0 + i]
                uk = zeros(u_map.shape[1])
                for i in range(u_map.shape[1]):
                    uk[i] = sig[int(u_map[r, i])]
                dk = zeros(d_map.shape[1])
                for i in range(d_map.shape[1]):
                    dk[i] = sig[int(d_map[r, i])]
                pk = zeros(n_p)
                for i in range(n_p):
                    pk[i] = p[p0 + i]
                if phase == f_phase:
                    fk = unit_f(xk, uk, dk, pk)
                    for i in range(nx):
                        dxdt[x0 + i] = fk[i]
                else:
                    yk = unit_g(xk, uk, dk, pk)
                    y0 = int(y_offset[r])
                    for i in range(yk.shape[0]):
                        sig[y0 + i] = yk[i]
        return 0

    return stage


def _make_evaluate(
    chain: Callable[..., Any], n_x: int, n_u: int, n_d: int, n_y: int, n_phases: int
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Return the composed ``f`` and ``g`` around a stage chain."""

    @equation
    def evaluate(x: Any, u: Any, d: Any, p: Any) -> Any:
        sig = zeros(n_u + n_d + n_y)
        for i in range(n_u):
            sig[i] = u[i]
        for i in range(n_d):
            sig[n_u + i] = d[i]
        dxdt = zeros(n_x)
        for phase in range(n_phases):
            chain(x, p, sig, dxdt, phase)
        y = zeros(n_y)
        for i in range(n_y):
            y[i] = sig[n_u + n_d + i]
        return dxdt, y

    @equation
    def flowsheet_f(x: Any, u: Any, d: Any, p: Any) -> Any:
        dxdt, _ = evaluate(x, u, d, p)
        return dxdt

    @equation
    def flowsheet_g(x: Any, u: Any, d: Any, p: Any) -> Any:
        _, y = evaluate(x, u, d, p)
        return y

    return flowsheet_f, flowsheet_g


# ---------------------------------------------------------------- structure


_FEEDTHROUGH: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]] = {}


def _feedthrough(model: EquationModel) -> tuple[np.ndarray, np.ndarray]:
    """Return boolean ``(dy/du != 0, dy/dd != 0)`` structure, shapes ``(ny, nu)``, ``(ny, nd)``.

    Read from the sparsity of the casadi Jacobian, so it is exact for the
    structure of the equations (not for values at one point).
    """
    sizes = model.sizes
    key = (model.f, model.g, sizes["x"], sizes["u"], sizes["d"], sizes["y"], sizes["p"])
    cached = _FEEDTHROUGH.get(key)
    if cached is not None:
        return cached
    g = to_casadi(model).g
    out = []
    for index, n_in in ((1, sizes["u"]), (2, sizes["d"])):
        mask = np.zeros((sizes["y"], n_in), dtype=bool)
        if n_in and sizes["y"]:
            rows, cols = g.jac_sparsity(0, index).get_triplet()
            mask[np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)] = True
        out.append(mask)
    result = (out[0], out[1])
    _FEEDTHROUGH[key] = result
    return result


def _split(path: str, what: str) -> tuple[str, str]:
    block, sep, var = path.partition(".")
    if not sep or not block or not var:
        raise EquationError(f"{what} {path!r} is not '<block>.<variable>'")
    return block, var


def _schedule(
    blocks: Sequence[Block],
    input_signal: list[list[int]],
    y_start: list[int],
    n_plant_inputs: int,
) -> list[list[int]]:
    """Return the layers of block indices to evaluate (see the module docstring)."""
    owner: dict[int, tuple[int, int]] = {}
    for b, block in enumerate(blocks):
        for j in range(len(block.model.outputs)):
            owner[y_start[b] + j] = (b, j)
    deps: list[list[set[int]]] = []
    for b, block in enumerate(blocks):
        through_u, through_d = _feedthrough(block.model)
        mask = np.hstack([through_u, through_d])
        block_deps = []
        for j in range(len(block.model.outputs)):
            sources = {input_signal[b][i] for i in np.flatnonzero(mask[j])}
            block_deps.append({s for s in sources if s >= n_plant_inputs})
        deps.append(block_deps)
    final: set[int] = set()
    pending = set(owner)
    layers: list[list[int]] = []
    while pending:
        ready = {s for s in pending if deps[owner[s][0]][owner[s][1]] <= final}
        if not ready:
            names = sorted(
                f"{blocks[owner[s][0]].name}.{blocks[owner[s][0]].model.outputs[owner[s][1]].name}"
                for s in pending
            )
            raise EquationError(
                "algebraic loop: these outputs depend on each other without a state in "
                f"between: {', '.join(names[:12])}; add a holdup or an actuator lag"
            )
        layers.append(sorted({owner[s][0] for s in ready}))
        final |= ready
        pending -= ready
    return layers


def compose_blocks(name: str, blocks: Sequence[Block], wires: Sequence[Wire]) -> ComposedModel:
    """Compose blocks and wires into one model (see the module docstring).

    Parameters
    ----------
    name : str
        Model name (an identifier).
    blocks : sequence of Block
        The blocks, in the order of the composed state and parameter vectors.
    wires : sequence of Wire
        Signal connections; each target at most once.

    Returns
    -------
    ComposedModel

    Raises
    ------
    EquationError
        For duplicate block names, an unknown source or target, a target
        wired twice, a wire to an output, or an algebraic loop.
    """
    if not name.isidentifier():
        raise EquationError(f"flowsheet name {name!r} is not an identifier")
    index: dict[str, int] = {}
    for b, block in enumerate(blocks):
        if block.name in index:
            raise EquationError(f"block {block.name} declared twice")
        index[block.name] = b

    def locate(path: str, what: str) -> tuple[int, str, int]:
        block_name, var = _split(path, what)
        if block_name not in index:
            raise EquationError(f"{what} {path!r}: no block {block_name!r}")
        model = blocks[index[block_name]].model
        for kind in ("u", "d", "y"):
            names = [v.name for v in model.variables(kind)]
            if var in names:
                return index[block_name], kind, names.index(var)
        raise EquationError(
            f"{what} {path!r}: block {block_name} ({model.name}) has no variable {var!r}"
        )

    wired: dict[tuple[int, str, int], tuple[int, str, int]] = {}
    for wire in wires:
        target = locate(wire.target, "wire target")
        if target[1] == "y":
            raise EquationError(f"wire target {wire.target!r} is an output; wire into an input")
        if target in wired:
            raise EquationError(f"wire target {wire.target!r} is wired twice")
        wired[target] = locate(wire.source, "wire source")

    states: list[Variable] = []
    inputs: list[Variable] = []
    disturbances: list[Variable] = []
    outputs: list[Variable] = []
    params: list[Variable] = []
    plant_slot: dict[tuple[int, str, int], tuple[str, int]] = {}
    for b, block in enumerate(blocks):
        for kind, plant_list in (("u", inputs), ("d", disturbances)):
            for i, var in enumerate(block.model.variables(kind)):
                if (b, kind, i) not in wired:
                    plant_slot[b, kind, i] = (kind, len(plant_list))
                    plant_list.append(_prefixed(block.name, var))
    n_u, n_d = len(inputs), len(disturbances)
    y_start: list[int] = []
    x_start: list[int] = []
    p_start: list[int] = []
    for block in blocks:
        y_start.append(n_u + n_d + len(outputs))
        x_start.append(len(states))
        p_start.append(len(params))
        outputs.extend(_prefixed(block.name, v) for v in block.model.outputs)
        states.extend(_prefixed(block.name, v) for v in block.model.states)
        params.extend(_prefixed(block.name, v) for v in block.model.parameters)

    def signal(ref: tuple[int, str, int], trail: tuple[tuple[int, str, int], ...] = ()) -> int:
        b, kind, i = ref
        if kind == "y":
            return y_start[b] + i
        if ref in plant_slot:
            slot_kind, k = plant_slot[ref]
            return k if slot_kind == "u" else n_u + k
        if ref in trail:
            raise EquationError(f"wires form a cycle through {blocks[b].name}")
        return signal(wired[ref], (*trail, ref))

    input_signal = []
    for b, block in enumerate(blocks):
        refs = [(b, "u", i) for i in range(len(block.model.inputs))]
        refs += [(b, "d", i) for i in range(len(block.model.disturbances))]
        input_signal.append([signal(r) for r in refs])

    layers = _schedule(blocks, input_signal, y_start, n_u + n_d)
    n_phases = len(layers) + 1
    groups: dict[tuple[Any, ...], list[int]] = {}
    for b, block in enumerate(blocks):
        m = block.model
        groups.setdefault((m.f, m.g, len(m.inputs), len(m.disturbances)), []).append(b)
    chain: Callable[..., Any] = _no_stage
    for (unit_f, unit_g, n_in, n_dist), rows in groups.items():
        active = np.zeros((len(rows), n_phases), dtype=np.int64)
        for k, b in enumerate(rows):
            for phase, layer in enumerate(layers):
                active[k, phase] = int(b in layer)
            active[k, n_phases - 1] = int(bool(blocks[b].model.states))
        chain = _make_stage(
            chain,
            unit_f,
            unit_g,
            n_phases - 1,
            active,
            np.array(
                [[x_start[b], x_start[b] + len(blocks[b].model.states)] for b in rows],
                dtype=np.int64,
            ),
            np.array(
                [[p_start[b], p_start[b] + len(blocks[b].model.parameters)] for b in rows],
                dtype=np.int64,
            ),
            np.array([input_signal[b][:n_in] for b in rows], dtype=np.int64).reshape(
                len(rows), n_in
            ),
            np.array([input_signal[b][n_in:] for b in rows], dtype=np.int64).reshape(
                len(rows), n_dist
            ),
            np.array([y_start[b] for b in rows], dtype=np.int64),
        )
    flowsheet_f, flowsheet_g = _make_evaluate(chain, len(states), n_u, n_d, len(outputs), n_phases)
    model = EquationModel(
        name=name,
        f=flowsheet_f,
        g=flowsheet_g,
        states=tuple(states),
        inputs=tuple(inputs),
        disturbances=tuple(disturbances),
        outputs=tuple(outputs),
        parameters=tuple(params),
        stiff=True,
    )
    p_all = np.concatenate([block.parameters for block in blocks]) if blocks else np.zeros(0)
    schedule = tuple(tuple(blocks[b].name for b in layer) for layer in layers)
    return ComposedModel(model, tuple(blocks), p_all, schedule)


def _prefixed(block_name: str, var: Variable) -> Variable:
    return Variable(f"{block_name}.{var.name}", var.unit, var.description, var.low, var.high)
