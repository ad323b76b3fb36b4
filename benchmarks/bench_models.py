"""Model simulation speed: our numba integrator vs scipy solve_ivp vs casadi cvodes.

Each reference plant is simulated open loop over ``--days`` (30 by default)
with the inputs and disturbances of a recorded truth run held per minute.
Every integrator solves the *same* equations (``f`` of the composed plant):
numba RK4 through :func:`plant_models.core.simulate.simulate`, scipy's
``solve_ivp`` (RK45) on the numba-compiled ``f``, and casadi's ``cvodes`` on
the casadi form of ``f`` with the inputs piecewise constant on the grid.
solve_ivp and cvodes are given tolerances such that their final-state error
against a tight reference is no better than ours (same accuracy).  Printed:
wall-time medians of ``--repeats`` runs and the ratios (targets: >= 100x
solve_ivp, >= 10x cvodes), and the batched throughput of 256 scenarios.

Chemical plant: add a ``PLANTS`` entry once ``energyopt.demos.chemical_history``
exposes its truth run (hook below).

Run: ``python benchmarks/bench_models.py [--days 30] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def _median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times = []
    result = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def steelworks_case(days: float) -> dict[str, Any]:
    """Return model, x0, per-minute u and d, and p of a steelworks truth run."""
    from energyopt.demos import demo_project_file
    from energyopt.demos.history import DEMO_START_MS
    from energyopt.demos.steelworks_truth import run_truth
    from energyopt.plantbuild import build_plant
    from energyopt.project import load_project

    built = build_plant(load_project(demo_project_file("steelworks")))
    run = run_truth(built, days=days, seed=1, start_ms=DEMO_START_MS)
    return {
        "name": "steelworks",
        "model": built.model,
        "x0": run.states[0],
        "u": run.inputs,
        "d": run.disturbances,
        "p": run.parameters,
        "dt": 60.0,
    }


#: Plant name -> case builder.  Hook for the chemical plant: add
#: ``"chemical": chemical_case`` returning the same keys.
PLANTS: dict[str, Callable[[float], dict[str, Any]]] = {"steelworks": steelworks_case}


def run_numba(case: dict[str, Any], substeps: int) -> np.ndarray:
    """Our integrator: RK4 with sub-steps; returns the final state."""
    from plant_models.core.simulate import simulate

    res = simulate(
        case["model"],
        case["x0"],
        case["u"],
        case["d"],
        case["p"],
        case["dt"],
        substeps=substeps,
        method="rk4",
    )
    return res.states[-1]


def run_solve_ivp(case: dict[str, Any], rtol: float, method: str = "RK45") -> np.ndarray:
    """scipy solve_ivp on the numba-compiled f, inputs held per interval."""
    from scipy.integrate import solve_ivp

    from plant_models.core.equations import to_numba

    f = to_numba(case["model"]).f
    u, d, p, dt = case["u"], case["d"], case["p"], case["dt"]
    n = u.shape[0]

    def rhs(t: float, x: np.ndarray) -> np.ndarray:
        k = min(int(t // dt), n - 1)
        return np.asarray(f(x, u[k], d[k], p))

    x = np.array(case["x0"], dtype=np.float64)
    # One solve per hour of held inputs (restarts at the input steps would be
    # exact but dominate); max_step keeps the input switches resolved.
    sol = solve_ivp(rhs, (0.0, n * dt), x, method=method, rtol=rtol, atol=rtol * 1e3, max_step=dt)
    return sol.y[:, -1]


def run_cvodes(case: dict[str, Any], rtol: float) -> np.ndarray:
    """casadi cvodes on the casadi f, inputs piecewise constant on the grid."""
    import casadi

    from plant_models.core.equations import to_casadi

    model = case["model"]
    f = to_casadi(model).f
    n = case["u"].shape[0]
    nx, nu, nd = model.sizes["x"], model.sizes["u"], model.sizes["d"]
    x = casadi.SX.sym("x", nx)
    w = casadi.SX.sym("w", nu + nd)
    p = casadi.SX.sym("p", model.sizes["p"])
    ode = f(x, w[:nu], w[nu:], p)
    grid = np.arange(1, n + 1) * case["dt"]
    integ = casadi.integrator(
        "F",
        "cvodes",
        {"x": x, "u": w, "p": p, "ode": ode},
        0.0,
        grid,
        {"reltol": rtol, "abstol": rtol * 1e3, "max_num_steps": 100000},
    )
    out = integ(x0=case["x0"], u=np.vstack([case["u"].T, case["d"].T]), p=case["p"])
    return np.asarray(out["xf"])[:, -1]


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scenarios", type=int, default=256)
    args = parser.parse_args()
    import numba

    numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
    for name, make in PLANTS.items():
        bench_plant(name, make(args.days), args)


def bench_plant(name: str, case: dict[str, Any], args: argparse.Namespace) -> None:
    """Time one plant with every integrator and print the figures."""
    scale = np.maximum(np.abs(case["x0"]), 1.0)
    # Tight reference: the same RK4 at 0.5 s steps (error ~1e4 times below ours).
    reference = run_numba(case, 120)
    run_numba(case, 12)  # compile
    t_nb, x_nb = _median_time(lambda: run_numba(case, 12), args.repeats)
    err_nb = float(np.max(np.abs(x_nb - reference) / scale))
    print(f"{name}: {args.days:g} days, {case['u'].shape[0]} intervals")
    print(f"  numba rk4 x12     {t_nb:9.3f} s   final-state error {err_nb:.1e}")
    for label, runner in (("solve_ivp RK45", run_solve_ivp), ("casadi cvodes ", run_cvodes)):
        rtol = 1e-3
        while True:  # tighten until at least as accurate as ours
            try:
                t_o, x_o = _median_time(lambda r=rtol, fn=runner: fn(case, r), 1)
            except RuntimeError as exc:  # cvodes gives up at too tight tolerances
                print(f"  {label}    failed at rtol {rtol:.0e}: {str(exc)[-60:]}")
                break
            err = float(np.max(np.abs(x_o - reference) / scale))
            if err <= max(err_nb, 1e-9) or rtol < 1e-9:
                break
            rtol /= 10.0
        if args.repeats > 1:
            t_o, _ = _median_time(lambda r=rtol, fn=runner: fn(case, r), args.repeats)
        print(
            f"  {label}    {t_o:9.3f} s   rtol {rtol:.0e}, error {err:.1e}   "
            f"ratio {t_o / t_nb:7.1f}x"
        )
    from plant_models.core.simulate import simulate_batch

    n_s = args.scenarios
    batch_days = min(args.days, 1.0)
    n_b = round(batch_days * 1440)
    rng = np.random.default_rng(0)
    d_b = case["d"][:n_b] * (1.0 + 0.02 * rng.standard_normal((n_s, 1, case["d"].shape[1])))

    def run_b():
        return simulate_batch(
            case["model"],
            case["x0"],
            case["u"][:n_b],
            d_b,
            case["p"],
            case["dt"],
            substeps=12,
            method="rk4",
        )

    run_b()
    t_b, _ = _median_time(run_b, args.repeats)
    print(
        f"  batch {n_s} scenarios x {batch_days:g} d on 2 threads: {t_b:.2f} s, "
        f"{n_s * batch_days / t_b:.1f} scenario-days/s"
    )


if __name__ == "__main__":
    main()
