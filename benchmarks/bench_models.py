"""Model simulation speed at matched accuracy: our numba integrator vs solve_ivp and cvodes.

Each reference plant is simulated open loop with the inputs and disturbances of
its recorded truth run (held per minute). Every integrator solves the *same*
equations -- ``f`` of the composed plant, traced once from its Python source:
our fixed-step integrator (:func:`plant_models.core.simulate.simulate`; the
product's method and step: steelworks RK4 at 5 s, as its demo history; chemical
:func:`plant_models.flowsheet.chemical.simulation_options`, RK4 at 2 s, while
its demo history was recorded with L-stable SDIRK2 at 5 s), scipy's
``solve_ivp`` on the generated numba ``f`` (RK45 for the steelworks, BDF with
the exact generated Jacobian for the chemical plant), and casadi's ``cvodes``
on the casadi ``f`` (BDF, and Adams for the non-stiff steelworks). All restart
at every input step (exact zero-order hold, as ours; cvodes through one call
per interval).

Work-precision: our product method runs at several step sizes (for the
chemical plant also SDIRK2 and SDIRK3, as information), solve_ivp and cvodes
at tolerances from 1e-3 down by half decades (until their error is below half
of ours at the product step, so that it is bracketed, they fail, or a run
exceeds ``--max-run-s`` CPU seconds, which is then said).
Error: the largest deviation from a tight reference over every state and every
minute of the run, as a fraction of the state's span (its declared envelope
``high - low``: the span that sensor noise of 0.1-0.2 % refers to). The
reference is RK4 at 0.125 s (steelworks, 40x shorter than the product step) or
0.25 s (chemical, 8x shorter); its own error is bounded by its distance to RK4
at twice its step (printed: a third of that distance, the bound for order 2:
saturation kinks in the right-hand side cap every method's order at 2 where
they are crossed, so order 4's 1/15 would be optimistic). A ratio at matched
accuracy interpolates the other method's time at our error log-log between its
two bracketing (Pareto-optimal) points; outside their range it is not
extrapolated, and it says so. Times are CPU times of this process (every single
run is single-threaded; on a loaded machine wall time would add other jobs'
time slices), medians of ``--repeats`` runs (``--ref-repeats`` for the slow
solve_ivp and cvodes runs). solve_ivp pays Python overhead per step and per
restart, so it runs ``--ivp-days`` (3 by default) against our curve over the
same span. Then the batched throughput of ``--scenarios`` (256) scenarios of
``--batch-days`` each on 2 threads (wall time), and with ``--compile`` the
compile time of each plant in a first (cold cache) and a second process.

Run: ``python benchmarks/bench_models.py [--days 30] [--repeats 3] [--compile]``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import itertools
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

_DAY_S = 86_400.0


# ---------------------------------------------------------------- cases


def steelworks_case(days: float) -> dict[str, Any]:
    """Return model, x0, per-minute u and d, p and our method of a steelworks truth run."""
    from energyopt.demos import demo_project_file
    from energyopt.demos.history import DEMO_START_MS
    from energyopt.demos.steelworks_truth import SUBSTEPS_PER_MINUTE, run_truth
    from energyopt.plantbuild import build_plant
    from energyopt.project import load_project

    built = build_plant(load_project(demo_project_file("steelworks")))
    run = run_truth(built, days=days, seed=1, start_ms=DEMO_START_MS)
    return {
        "model": built.model,
        "x0": run.states[0],
        "u": run.inputs,
        "d": run.disturbances,
        "p": run.parameters,
        "dt": 60.0,
        "substeps": SUBSTEPS_PER_MINUTE,
        "options": {"method": "rk4"},
        "ivp_method": "RK45",
    }


def chemical_case(days: float) -> dict[str, Any]:
    """Return the same keys for the chemical truth run of the demo history.

    The demo module records tags, not the model arrays: the arrays are taken
    from its call of :func:`plant_models.core.simulate.simulate` (the last
    call is the recorded run; the earlier ones settle the steady state).  Our
    method and step are the product's
    (:func:`plant_models.flowsheet.chemical.simulation_options`), not the
    history's; the history's Newton settings serve the implicit methods.
    """
    import plant_models.core.simulate as sim
    from energyopt.demos import demo_project_file
    from energyopt.demos.chemical_history import record_history
    from energyopt.project import load_project
    from plant_models.flowsheet.chemical import simulation_options

    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    original = sim.simulate

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append((args, kwargs))
        return original(*args, **kwargs)

    sim.simulate = spy  # type: ignore[assignment]
    try:
        record_history(load_project(demo_project_file("chemical")), days=days, seed=1)
    finally:
        sim.simulate = original  # type: ignore[assignment]
    (model, x0, u, d, p, dt), kwargs = calls[-1]
    product = simulation_options(float(dt))
    kwargs.pop("substeps", None)
    kwargs.pop("method", None)
    return {
        "model": model,
        "x0": np.asarray(x0),
        "u": np.asarray(u),
        "d": np.asarray(d),
        "p": np.asarray(p),
        "dt": float(dt),
        "substeps": int(product["substeps"]),
        "options": {"method": product["method"]},
        "implicit_options": kwargs,
        "ivp_method": "BDF",
    }


#: Plant name -> case builder.
PLANTS: dict[str, Callable[[float], dict[str, Any]]] = {
    "steelworks": steelworks_case,
    "chemical": chemical_case,
}


def _head(case: dict[str, Any], days: float) -> dict[str, Any]:
    """The case cut to its first ``days``."""
    n = min(round(days * _DAY_S / case["dt"]), case["u"].shape[0])
    return {**case, "u": case["u"][:n], "d": case["d"][:n]}


# ---------------------------------------------------------------- integrators

#: Our product method's step sizes per plant (the product's is the case's own). [s]
STEPS_S: dict[str, tuple[float, ...]] = {
    "steelworks": (2.5, 5.0, 7.5, 10.0, 12.0, 15.0, 20.0, 30.0),
    "chemical": (1.0, 1.5, 2.0, 2.5, 3.0, 4.0),
}
#: Our other methods on a plant, shown beside its product method (information
#: only; the chemical plant's demo history is SDIRK2 at 5 s). [s]
EXTRA_STEPS_S: dict[str, dict[str, tuple[float, ...]]] = {
    "chemical": {
        "sdirk2": (2.5, 5.0, 10.0, 20.0, 60.0),
        "sdirk3": (2.5, 5.0, 10.0, 20.0, 60.0),
    },
}
#: Reference step: RK4 at 1/40 of the steelworks' product step, at 1/8 of the
#: chemical plant's (whose fastest eigenvalue, -0.71 1/s, bounds RK4 to 3.9 s). [s]
REF_STEP_S: dict[str, float] = {"steelworks": 0.125, "chemical": 0.25}


def _timed(
    fn: Callable[[], Any],
    repeats: int,
    first: tuple[float, Any] | None = None,
    clock: Callable[[], float] = time.process_time,
) -> Any:
    """Median time of ``repeats`` calls (``first``: an already timed call) and a result.

    CPU time of this process by default: every single-scenario run here is
    single-threaded, and on a shared, loaded machine CPU time is what the
    integrator costs (wall time adds the other jobs' time slices).
    """
    times = [] if first is None else [first[0]]
    result = None if first is None else first[1]
    while len(times) < repeats:
        t0 = clock()
        result = fn()
        times.append(clock() - t0)
    return statistics.median(times), result


def run_ours(case: dict[str, Any], step_s: float, options: dict[str, Any]) -> np.ndarray:
    """Our integrator at ``step_s`` (a divisor of the interval); states at the grid."""
    from plant_models.core.simulate import simulate

    substeps = round(case["dt"] / step_s)
    args = (case["model"], case["x0"], case["u"], case["d"], case["p"], case["dt"])
    return simulate(*args, substeps=substeps, **options).states


def run_solve_ivp(case: dict[str, Any], rtol: float) -> np.ndarray:
    """scipy solve_ivp on the generated numba f, restarted at every input step."""
    from scipy.integrate import solve_ivp

    from plant_models.core.codegen import compile_model

    kernels = compile_model(case["model"])
    f, jac = kernels.f, kernels.jac
    u, d, p, dt = case["u"], case["d"], case["p"], case["dt"]
    xs = np.empty((u.shape[0] + 1, case["x0"].size))
    xs[0] = case["x0"]
    atol = rtol * case["span"]
    stiff = case["ivp_method"] != "RK45"
    for k in range(u.shape[0]):
        uk, dk = u[k], d[k]
        options: dict[str, Any] = {"rtol": rtol, "atol": atol}
        if stiff:
            options["jac"] = lambda t, z, uk=uk, dk=dk: jac(z, uk, dk, p)
        sol = solve_ivp(
            lambda t, z, uk=uk, dk=dk: f(z, uk, dk, p),
            (0.0, dt),
            xs[k],
            method=case["ivp_method"],
            **options,
        )
        if not sol.success:
            raise RuntimeError(sol.message)
        xs[k + 1] = sol.y[:, -1]
    return xs


def run_cvodes(case: dict[str, Any], rtol: float, lmm: str = "bdf") -> np.ndarray:
    """casadi cvodes on the casadi f, restarted at every input step (one call per interval)."""
    import casadi

    from plant_models.core.equations import to_casadi

    model = case["model"]
    nx, nu, nd = model.sizes["x"], model.sizes["u"], model.sizes["d"]
    x = casadi.SX.sym("x", nx)
    w = casadi.SX.sym("w", nu + nd + model.sizes["p"])
    ode = to_casadi(model).f(x, w[:nu], w[nu : nu + nd], w[nu + nd :])
    # One scalar abstol (cvodes takes no vector): rtol * 1e3 leaves the large
    # states (volumes, pressures, powers) under rtol and the flows under atol.
    # Not casadi's output grid with piecewise-constant "u": on the steelworks
    # it was 20-100x less accurate than a restart per interval, and no faster.
    options: dict[str, Any] = {"reltol": rtol, "abstol": rtol * 1e3, "max_num_steps": 100000}
    options["linear_multistep_method"] = lmm
    if lmm == "adams":  # non-stiff: functional iteration, no Jacobian
        options["nonlinear_solver_iteration"] = "functional"
    integ = casadi.integrator("F", "cvodes", {"x": x, "p": w, "ode": ode}, 0.0, case["dt"], options)
    step = integ.factory("step", ["x0", "p"], ["xf"])  # positional call, no dict per interval
    inputs = np.hstack([case["u"], case["d"], np.tile(case["p"], (case["u"].shape[0], 1))])
    xs = np.empty((inputs.shape[0] + 1, nx))
    xs[0] = case["x0"]
    for k in range(inputs.shape[0]):
        xs[k + 1] = np.asarray(step(xs[k], inputs[k])).ravel()
    return xs


def _error(xs: np.ndarray, reference: np.ndarray, span: np.ndarray) -> tuple[float, int]:
    """Largest deviation over grid and states as a fraction of span, and its state."""
    per_state = np.max(np.abs(xs - reference), axis=0) / span
    worst = int(np.argmax(per_state))
    return float(per_state[worst]), worst


def _span(case: dict[str, Any]) -> np.ndarray:
    low, high = case["model"].bounds("x")
    span = high - low
    return np.where(np.isfinite(span) & (span > 0.0), span, np.maximum(np.abs(case["x0"]), 1.0))


def _reference(name: str, case: dict[str, Any]) -> tuple[np.ndarray, float]:
    """RK4 at the reference step, and its error bound: 1/3 of its distance to RK4 at 2x."""
    ref = run_ours(case, REF_STEP_S[name], {"method": "rk4"})
    coarse = run_ours(case, 2.0 * REF_STEP_S[name], {"method": "rk4"})
    return ref, _error(coarse, ref, case["span"])[0] / 3.0


def our_curve(
    case: dict[str, Any], method: str, steps_s: tuple[float, ...], ref: np.ndarray, repeats: int
) -> list[tuple[float, float, float]]:
    """Print and return our (step, error, time) points; unstable steps are reported and skipped."""
    from plant_models.core.errors import SimulationError

    names = [v.name for v in case["model"].variables("x")]
    options = {"method": method}
    if method != "rk4":
        options.update(case.get("implicit_options", {}))
    points = []
    for step in steps_s:
        if abs(case["dt"] / step - round(case["dt"] / step)) > 1e-9:
            continue
        try:
            first = _timed(lambda s=step: run_ours(case, s, options), 1)
        except SimulationError as exc:
            print(f"    ours {method:<7} step {step:5g} s   fails: {str(exc)[-60:]}")
            continue
        t, xs = _timed(lambda s=step: run_ours(case, s, options), repeats, first)
        err, worst = _error(xs, ref, case["span"])
        mark = "  <- product" if round(case["dt"] / step) == case["substeps"] else ""
        if method != case["options"].get("method"):
            mark = "  (information)"
        print(
            f"    ours {method:<7} step {step:5g} s   error {err:8.1e} ({names[worst]})   "
            f"{t:8.3f} s  {t / case['days'] * 1e3:7.2f} ms/day{mark}"
        )
        points.append((step, err, t))
    return points


def other_curve(
    label: str,
    runner: Callable[[float], np.ndarray],
    case: dict[str, Any],
    ref: np.ndarray,
    target: float,
    args: argparse.Namespace,
) -> list[tuple[float, float, float]]:
    """Print and return (rtol, error, time) of ``runner`` from rtol 1e-3 down by half decades.

    Stops once the error is below ``target`` (so our error is bracketed and
    the ratio interpolated), at a failure, below rtol 1e-11 or after a run
    longer than ``args.max_run_s`` (said, as the ratio is then a bound).
    """
    names = [v.name for v in case["model"].variables("x")]
    points = []
    for e in range(6, 23):
        rtol = 10.0 ** (-e / 2.0)
        try:
            first = _timed(lambda r=rtol: runner(r), 1)
        except RuntimeError as exc:  # cvodes may fail its error test at a kink
            print(f"    {label:<14} rtol {rtol:7.0e}   fails: {str(exc)[-70:]}")
            break
        repeats = args.ref_repeats if first[0] <= args.max_run_s / 4 else 1
        t, xs = _timed(lambda r=rtol: runner(r), repeats, first)
        err, worst = _error(xs, ref, case["span"])
        print(f"    {label:<14} rtol {rtol:7.1e}   error {err:8.1e} ({names[worst]})   {t:8.3f} s")
        points.append((rtol, err, t))
        if err <= target:
            break
        if first[0] > args.max_run_s:
            print(f"    {label:<14} stopped: a run took {first[0]:.0f} s > --max-run-s")
            break
    return points


def time_at(points: list[tuple[float, float, float]], err: float) -> float | None:
    """Time of the Pareto front of (knob, error, time) at ``err``, log-log; None outside it."""
    front: list[tuple[float, float]] = []
    for _, e, t in sorted(points, key=lambda q: q[1]):
        if not front or t < front[-1][1]:  # drop points slower than a more accurate one
            front.append((e, t))
    for (e0, t0), (e1, t1) in itertools.pairwise(front):
        if e0 <= err <= e1:
            w = math.log(err / e0) / math.log(e1 / e0)
            return math.exp(math.log(t0) + w * math.log(t1 / t0))
    if front and err == front[0][0]:
        return front[0][1]
    return None


def print_ratios(
    label: str, ours: list[tuple[float, float, float]], other: list[tuple[float, float, float]],
    case: dict[str, Any], target: float,
) -> None:  # fmt: skip
    """Print ``label``'s interpolated time over ours at each of our errors."""
    errors = [e for _, e, _ in other]
    for step, err, t in ours:
        product = round(case["dt"] / step) == case["substeps"]
        head = f"    {label:<14} vs ours at {step:4g} s (error {err:.1e}):"
        t_o = time_at(other, err)
        if t_o is not None:
            ratio = f"ratio {t_o / t:7.1f}x"
        elif errors and err < min(errors):
            i = int(np.argmin(errors))
            ratio = (
                f"out of range: it never reached this error (its best {errors[i]:.1e} "
                f"took {other[i][2] / t:.1f}x our time)"
            )
        else:
            ratio = "out of range: less accurate than its loosest run"
        tail = f"  <- product (target >= {target:g}x)" if product else ""
        print(f"{head} {ratio}{tail}")


def bench_plant(name: str, case: dict[str, Any], args: argparse.Namespace) -> None:
    """Work-precision curves of one plant with every integrator; print them and the ratios."""
    method = case["options"].get("method", "rk4")
    spans = [(case, "cvodes"), (_head(case, args.ivp_days), "solve_ivp")]
    for part, others in spans:
        part["span"] = _span(part)
        part["days"] = part["u"].shape[0] * case["dt"] / _DAY_S
        run_ours(part, case["dt"] / case["substeps"], case["options"])  # compile or load
        ref, ref_err = _reference(name, part)
        print(
            f"{name} over {part['days']:g} d ({part['u'].shape[0]} intervals, nx = "
            f"{case['x0'].size}) for {others}: reference RK4 at {REF_STEP_S[name]:g} s, "
            f"its error <= {ref_err:.1e} of span"
        )
        ours = our_curve(part, method, STEPS_S[name], ref, args.repeats)
        for extra, steps in EXTRA_STEPS_S.get(name, {}).items():
            our_curve(part, extra, steps, ref, args.repeats)
        product = [e for s, e, _ in ours if round(case["dt"] / s) == case["substeps"]]
        target_err = 0.5 * (product[0] if product else min(e for _, e, _ in ours))
        curves = []
        if others == "cvodes":
            lmms = ("bdf", "adams") if case["ivp_method"] == "RK45" else ("bdf",)
            for lmm in lmms:
                label = f"cvodes {lmm}"
                run = functools.partial(run_cvodes, part, lmm=lmm)
                curves.append((label, other_curve(label, run, part, ref, target_err, args), 10))
        else:
            label = f"solve_ivp {case['ivp_method']}"
            run = functools.partial(run_solve_ivp, part)
            curves.append((label, other_curve(label, run, part, ref, target_err, args), 100))
        print("  ratios at matched accuracy (its interpolated time at our error / our time):")
        for label, points, target in curves:
            print_ratios(label, ours, points, case, target)
    bench_batch(case, args)


def bench_batch(case: dict[str, Any], args: argparse.Namespace) -> None:
    """Print the throughput of ``args.scenarios`` scenarios on the numba threads."""
    from plant_models.core.simulate import simulate_batch

    n_s = args.scenarios
    n_b = min(round(args.batch_days * _DAY_S / case["dt"]), case["u"].shape[0])
    batch_days = n_b * case["dt"] / _DAY_S
    rng = np.random.default_rng(0)
    # Scenarios: the recorded disturbances with a +-2 % scenario-wise scaling.
    d_b = case["d"][:n_b] * (1.0 + 0.02 * rng.standard_normal((n_s, 1, case["d"].shape[1])))

    def run_b() -> Any:
        return simulate_batch(
            case["model"],
            case["x0"],
            case["u"][:n_b],
            d_b,
            case["p"],
            case["dt"],
            substeps=case["substeps"],
            **case["options"],
        )

    run_b()
    # Wall time: the scenarios run on the numba threads (CPU time would add them up).
    t_b, _ = _timed(run_b, args.repeats, clock=time.perf_counter)
    import numba

    print(
        f"  batch {n_s} scenarios x {batch_days:g} d on {numba.get_num_threads()} threads: "
        f"{t_b:.2f} s, {n_s * batch_days / t_b:.1f} scenario-days/s"
    )


def steelworks_model() -> Any:
    """The steelworks demo plant's model."""
    from energyopt.demos import demo_project_file
    from energyopt.plantbuild import build_plant
    from energyopt.project import load_project

    return build_plant(load_project(demo_project_file("steelworks"))).model


def chemical_model() -> Any:
    """The chemical demo plant's model."""
    from energyopt.demos import demo_project_file
    from energyopt.demos.chemical_history import build_chemical_flowsheet
    from energyopt.project import load_project

    return build_chemical_flowsheet(load_project(demo_project_file("chemical"))).model


#: Plant name -> (model builder, the product's integration method).
MODELS: dict[str, tuple[Callable[[], Any], str]] = {
    "steelworks": (steelworks_model, "rk4"),
    "chemical": (chemical_model, "rk4"),
}


def compile_probe(name: str) -> None:
    """Build plant ``name``, then time the first simulation (compile or cache load); print it."""
    t0 = time.perf_counter()
    make, method = MODELS[name]
    model = make()
    t1 = time.perf_counter()
    from plant_models.core.codegen import compile_model
    from plant_models.core.simulate import simulate

    low, high = model.bounds("x")
    x0 = np.where(np.isfinite(low + high), 0.5 * (low + high), 1.0)
    u = np.zeros((1, model.sizes["u"]))
    d = np.tile(np.where(np.isfinite(model.bounds("d")[0]), model.bounds("d")[0], 0.0), (1, 1))
    # An arbitrary point may fail to converge: the kernels are compiled all the same.
    with contextlib.suppress(ValueError):
        simulate(model, x0, u, d, np.ones(model.sizes["p"]), 1.0, method=method)
    kernels = compile_model(model)
    kernels.g(x0, u[0], d[0], np.ones(model.sizes["p"]))
    t2 = time.perf_counter()
    print(f"{t2 - t1:.2f} {t1 - t0:.2f}")


def bench_compile(names: list[str]) -> None:
    """Print the compile time (first simulation) in a cold-cache and a warm-cache process."""
    with tempfile.TemporaryDirectory(prefix="bench-kernels-") as folder:
        env = {**os.environ, "ENERGYOPT_KERNEL_DIR": folder, "NUMBA_CACHE_DIR": folder}
        script = str(Path(__file__).resolve())
        for name in names:
            times = []
            for _ in range(2):
                out = subprocess.run(
                    [sys.executable, script, "--probe", name],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                times.append(out.stdout.split()[-2:])
            print(
                f"{name}: generate + compile + first simulation {times[0][0]} s in a first "
                f"process (cold cache), {times[1][0]} s in a second (model build {times[1][1]} s)"
            )


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--ivp-days", type=float, default=3.0)
    parser.add_argument("--batch-days", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ref-repeats", type=int, default=3, help="repeats of solve_ivp/cvodes")
    parser.add_argument(
        "--max-run-s", type=float, default=120.0, help="no tighter rtol after a run this long"
    )
    parser.add_argument("--scenarios", type=int, default=256)
    parser.add_argument("--plants", default=",".join(PLANTS))
    parser.add_argument("--compile", action="store_true", help="also time compilation")
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        compile_probe(args.probe)
        return
    import numba

    numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
    names = [n for n in args.plants.split(",") if n]
    if args.compile:
        bench_compile(names)
    for name in names:
        bench_plant(name, PLANTS[name](args.days), args)


if __name__ == "__main__":
    main()
