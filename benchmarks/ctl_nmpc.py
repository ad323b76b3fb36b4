"""Process NMPC on the chemical demo plant: solve time per step, ours against do-mpc's default.

The plant is the demo flowsheet (``energyopt/demos/chemical.toml``: 23
states, the 5 PID-loop setpoints as MVs) simulated by the numba SDIRK2
integrator at 5 s steps.  It starts at the steady state of the
high-throughput mode and the reactor's c_B setpoint is raised by
20 mol/m3 at the first step, so every solve moves the plan.  The controller
runs 60 s x 20 intervals with Radau IIA collocation (degree 2), the MV
limits and rate limits of the project's bindings and the weights of its
``[controller]`` table.

The same problem (same casadi equations from
:func:`plant_models.core.equations.to_casadi`, horizon, weights, MV limits,
collocation degree 2 with Radau points, ipopt with MUMPS and do-mpc's
default ipopt options) is formulated with do-mpc's ``MPC`` and run on the same
closed loop twice: in do-mpc's default formulation (no MV rate limits: the
speed comparison of issue 4), and with our rate limits added as linear
constraints on its inputs through ``prepare_nlp`` / ``create_nlp``
(``|u_k - u_{k-1}| <= rate``, ``u_{-1}`` the MV applied now).  The first moves
are compared with the rate-limited variant, which solves our problem:
tolerance 1e-3 MV scales (measured 6e-6 on 2026-11-21; against the default
formulation they differ by 0.26, the feed rate riding its rate limit in
ours).  The formulations still differ in terms that carry no weight in this
comparison: do-mpc's stage cost sits at samples ``0..N-1`` plus the tracking
term at sample ``N`` as its terminal cost, ours at ``1..N`` (the tracked CVs
depend on the states only, checked, so sample 0 is a constant); its soft bands sit at samples
``0..N-1`` and are priced linearly, ours at ``1..N`` with an added quadratic
term (no band is active in the first plan: the benchmark prints the active
constraints).  The rate limits make do-mpc faster (12 against 19 ipopt
iterations, about 75 % of the default's time), so the speed target is
checked against the default formulation and the ratio to the rate-limited
one is printed too.  do-mpc scales each input by ``mpc.scaling`` and applies
the ``rterm`` to the *scaled* input, so its move weight is ours as is
(dividing it by the scale squared again made the weights 1e7 apart and
ipopt stalled at its iteration limit).

Our controller runs twice: with its default fast path (Gauss-Newton SQP on
hpipm, one real-time iteration per step, ipopt on the first step and
whenever a check fails; :mod:`controllers.nmpc.sqp`), and with
``sqp_iterations=0`` (every step by warm-started ipopt, the previous
default).  In the fast-path loop an ipopt-only controller also solves every
request: the first moves of the two on the same problem are compared
(tolerance 1 % of each MV's scale), and so are the c_B trajectories of the
two closed loops (tolerance 0.1 mol/m3).

Times per step are wall (``time.perf_counter``) and CPU
(``time.process_time``, all threads of the process) of the controller call
alone, medians and p95 of the warm steps (the first, cold one left out), all
loops in one run.  casadi's bundled OpenBLAS runs one thread in every loop,
do-mpc's included (our controller's default ``blas_threads=1``, set when the
first one is built: :mod:`controllers.nmpc.blas`); with two, its spinning
worker was counted in the fast path's CPU time.  The machine is shared:
quote CPU medians, the ratios of one run and the load.

``run_nmpc_benchmark(n_steps)`` returns the figures; ``main()`` prints them.
Usage: ``python benchmarks/ctl_nmpc.py [--steps N]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np

__all__ = ["main", "run_nmpc_benchmark"]

_DT_S = 60.0
_HORIZON = 20
_SETPOINT_STEP_MOL_M3 = 20.0
_PER_H = 1.0 / 3600.0
#: Largest first-move difference of the fast path from ipopt on the same
#: request, in MV scales (the real-time iteration lags the optimum by one
#: Gauss-Newton step: about 1e-3 after a setpoint step, 1e-6 at rest).
_FIRST_MOVE_TOL = 0.01
#: Largest c_B difference between the fast-path and the ipopt closed loops
#: (0.5 % of the CV's scale of 20 mol/m3). [mol/m3]
_C_B_TOL_MOL_M3 = 0.1
#: Largest first-move difference from do-mpc's with our rate limits, in MV
#: scales.  Both are ipopt solutions (tol 1e-8) of the same NLP from the
#: same state: measured 6e-6 (2026-11-21); 1e-3 leaves that a 100x margin
#: for their different scalings and multipliers while a formulation
#: mismatch shows far above it (without the rate limits: 0.26).
_DOMPC_FIRST_MOVE_TOL = 1e-3
_DISTURBANCES = {
    "fresh_feed.in_c_a_mol_m3": 5100.0,
    "fresh_feed.in_t_k": 303.15,
    "reactor.t_cooling_water_k": 303.15,
    "cw_pump.static_head_m": 5.0,
    "cw_pump.resistance_s2_m5": 5040.0,
    "plant_motors.demand_fraction": 1.0,
}
_START = {
    "reactor.c_c_mol_m3": 1000.0,
    "reactor.c_d_mol_m3": 400.0,
    "reactor.cooling_water_kg_s": 0.1,
    "flash.c_a_mol_m3": 1500.0,
    "flash.c_b_mol_m3": 1000.0,
    "flash.c_c_mol_m3": 1000.0,
    "flash.c_d_mol_m3": 400.0,
    "flash.steam_kg_s": 0.1,
    "feed_preheater.t_hot_out_k": 330.0,
    "feed_preheater.t_cold_exchanger_k": 360.0,
    "feed_preheater.steam_kg_s": 0.1,
    "fresh_feed.flow_m3_s": 0.005,
    "flash.draw_m3_s": 0.005,
    "fic_101.integral": 0.7,
    "tic_102.integral": 0.05,
    "fic_203.integral": 0.2,
    "tic_110.integral": 0.2,
}


def _plant_problem() -> dict[str, Any]:
    """Flowsheet, steady state, disturbances and the NMPC settings of the scenario."""
    from importlib import resources
    from pathlib import Path

    from controllers.nmpc import CvSpec, MvSpec, NmpcSettings
    from energyopt.demos.chemical_history import build_chemical_flowsheet, mode_setpoints
    from energyopt.project import load_project
    from plant_models.flowsheet.chemical import initial_state, setpoint_inputs, steady_state

    project = load_project(Path(str(resources.files("energyopt.demos") / "chemical.toml")))
    flowsheet = build_chemical_flowsheet(project)
    model = flowsheet.model
    d = np.zeros(model.sizes["d"])
    for name, value in _DISTURBANCES.items():
        d[model.index("d", name)] = value
    u = setpoint_inputs(flowsheet, mode_setpoints(project, flowsheet)["high_throughput"])
    u[model.index("u", "cw_pump.speed_fraction")] = 1.0
    u[model.index("u", "cooling_tower.fan_speed_fraction")] = 1.0
    x = steady_state(flowsheet, u, d, x0=initial_state(flowsheet, _START), settle_s=4 * 3600.0)
    c_b = float(x[model.index("x", "reactor.c_b_mol_m3")])
    # Limits and rates of the project's bindings (per minute = per interval).
    mvs = (
        MvSpec("fic_101.setpoint", 1 * _PER_H, 0.5, 8 * _PER_H, 20 * _PER_H, 0.5 * _PER_H),
        MvSpec("tic_102.setpoint", 1.0, 1.0, 378.15, 395.15, 0.5),
        MvSpec("tic_110.setpoint", 1.0, 0.1, 373.15, 403.15, 0.5),
        MvSpec("lic_201.setpoint", 0.01, 0.1, 0.3, 0.7, 0.01),
        MvSpec("fic_203.setpoint", 0.05 / 3.6, 0.1, 0.1 / 3.6, 1.2 / 3.6, 0.05 / 3.6),
    )
    cvs = (
        CvSpec(
            "reactor.c_b_mol_m3", "x", 20.0, c_b + _SETPOINT_STEP_MOL_M3, 1.0, 1000.0, 1300.0, 1
        ),
        CvSpec("reactor.t_reactor_k", "x", 1.0, None, 0.0, 378.15, 393.15, 2),
        CvSpec("flash.level_fraction", "y", 0.05, 0.5, 0.2, 0.4, 0.6, 3),
    )
    fixed = {
        name: float(u[model.index("u", name)])
        for name in (
            "cw_pump.speed_fraction",
            "cooling_tower.fan_speed_fraction",
            "plant_motors.shed_fraction",
        )
    }
    settings = NmpcSettings(mvs=mvs, cvs=cvs, dt_s=_DT_S, horizon=_HORIZON, fixed_inputs=fixed,
                            collocation_degree=2, priority_ratio=10.0)  # fmt: skip
    return {"flowsheet": flowsheet, "model": model, "x": x, "u": u, "d": d, "settings": settings}


def _plant_step(model: Any, x: np.ndarray, u: np.ndarray, d: np.ndarray, p: np.ndarray) -> Any:
    from plant_models.core.simulate import simulate
    from plant_models.flowsheet.chemical import SIMULATION_OPTIONS

    n = round(_DT_S / 5.0)
    run = simulate(model, x, np.tile(u, (n, 1)), np.tile(d, (n, 1)), p, 5.0, **SIMULATION_OPTIONS)
    return run.states[-1]


def _ours(prob: dict[str, Any], n_steps: int, sqp_iterations: int,
          shadow: bool = False) -> dict[str, Any]:  # fmt: skip
    """Closed loop of our NMPC with ``sqp_iterations`` (0: every solve by ipopt).

    With ``shadow``, an ipopt-only controller solves every request of the
    loop too (warm-started from its own previous solution): the first-move
    difference per step, in MV scales, compares the fast path with the NLP
    solution of the same problem.
    """
    import dataclasses

    from controllers.advisor import ControlRequest
    from controllers.nmpc import NonlinearMPC

    model, p = prob["model"], prob["flowsheet"].parameters
    settings = dataclasses.replace(prob["settings"], sqp_iterations=sqp_iterations)
    start = time.perf_counter()
    mpc = NonlinearMPC(model, p, settings)
    build_s = time.perf_counter() - start
    exact = (
        NonlinearMPC(model, p, dataclasses.replace(settings, sqp_iterations=0)) if shadow else None
    )
    scales = np.array([m.scale for m in settings.mvs])
    shadow_diff: list[float] = []
    c_b_index = model.index("x", "reactor.c_b_mol_m3")
    c_b = []
    mv_idx = [model.index("u", m.name) for m in settings.mvs]
    low = np.array([m.low for m in settings.mvs])
    high = np.array([m.high for m in settings.mvs])
    rate = np.array([m.rate for m in settings.mvs])
    x, u, d = prob["x"].copy(), prob["u"].copy(), prob["d"]
    times, cpu, first = [], [], None
    first_active: tuple[str, ...] = ()
    statuses = []
    for k in range(n_steps):
        meas = mpc.pack_measurements(x, None, d)
        request = ControlRequest(
            time_s=_DT_S * k, mv_current=u[mv_idx], mv_lower=low, mv_upper=high, mv_rate=rate,
            measurements=meas, measurement_valid=np.ones(meas.size, bool),
            history=np.zeros((0, meas.size)), time_budget_s=10.0,
        )  # fmt: skip
        start, start_cpu = time.perf_counter(), time.process_time()
        sol = mpc.solve(request)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        statuses.append(sol.status.value)
        if not sol.status.usable:
            break
        if exact is not None:
            ref = exact.solve(request)
            if ref.status.usable:
                shadow_diff.append(float(np.max(np.abs(sol.mv_plan[0] - ref.mv_plan[0]) / scales)))
        if first is None:
            first = sol.mv_plan[0].copy()
            first_active = sol.active_constraints
        u = u.copy()
        u[mv_idx] = sol.mv_plan[0]
        x = _plant_step(model, x, u, d, p)
        c_b.append(float(x[c_b_index]))
    return {"times": times, "cpu": cpu, "first": first, "first_active": first_active,
            "statuses": statuses, "build_s": build_s, "fallbacks": mpc.n_fallbacks,
            "sqp_solves": mpc.n_sqp_solves, "sqp_fallbacks": mpc.n_sqp_fallbacks,
            "shadow_diff": shadow_diff, "c_b": np.array(c_b),
            "c_b_final": float(x[c_b_index])}  # fmt: skip


def _do_mpc(prob: dict[str, Any], n_steps: int, rate_limits: bool = False) -> dict[str, Any]:
    """Closed loop of do-mpc's ``MPC`` on the same problem.

    With ``rate_limits`` the MV rate limits are added as linear constraints
    on the scaled inputs through do-mpc's ``prepare_nlp`` / ``create_nlp``
    (``|u_k - u_{k-1}| <= rate``, ``u_{-1}`` its ``_u_prev`` parameter, the
    MV applied now), so that both controllers solve the same problem;
    without, do-mpc's default formulation (no rate limits).
    """
    import casadi as ca
    import do_mpc

    from controllers.nmpc.discretisation import state_scaling
    from plant_models.core.equations import to_casadi

    model, settings, p = prob["model"], prob["settings"], prob["flowsheet"].parameters
    cas = to_casadi(model, "SX")
    dm = do_mpc.model.Model("continuous", "SX")
    x = dm.set_variable("_x", "x", (model.sizes["x"], 1))
    mv = dm.set_variable("_u", "mv", (len(settings.mvs), 1))
    u_full: list[Any] = [float(prob["u"][i]) for i in range(model.sizes["u"])]
    mv_idx = [model.index("u", m.name) for m in settings.mvs]
    for j, i in enumerate(mv_idx):
        u_full[i] = mv[j]
    u_vec = ca.vertcat(*u_full)
    d = ca.DM(prob["d"])
    dm.set_rhs("x", cas.f(x, u_vec, d, ca.DM(p)))
    y = cas.g(x, u_vec, d, ca.DM(p))
    for c in settings.cvs:
        value = x[model.index("x", c.name)] if c.kind == "x" else y[model.index("y", c.name)]
        dm.set_expression(c.name, value)
    dm.setup()
    cv_expr = [dm.aux[c.name] for c in settings.cvs]

    mpc = do_mpc.controller.MPC(dm)
    mpc.settings.n_horizon = settings.horizon
    mpc.settings.t_step = settings.dt_s
    mpc.settings.state_discretization = "collocation"
    mpc.settings.collocation_type = "radau"
    mpc.settings.collocation_deg = settings.collocation_degree
    mpc.settings.collocation_ni = 1
    mpc.settings.store_full_solution = False
    mpc.settings.nlpsol_opts = {"ipopt.print_level": 0, "print_time": 0, "ipopt.sb": "yes"}
    track: Any = 0.0
    for c, e in zip(settings.cvs, cv_expr, strict=True):
        if c.setpoint is not None:
            track += c.weight * ((e - c.setpoint) / c.scale) ** 2
    # Terminal cost: the tracking term at sample N (do-mpc's lterm covers
    # samples 0..N-1); the tracked CVs of this scenario depend on the states only.
    if ca.depends_on(track, mv):
        raise RuntimeError("a tracked CV depends on the MVs: no terminal cost for do-mpc")
    mpc.set_objective(lterm=track, mterm=track)
    # do-mpc's rterm acts on the scaled inputs (mpc.scaling below): our move weight as is.
    mpc.set_rterm(mv=np.array([m.move_weight for m in settings.mvs]))
    mpc.bounds["lower", "_u", "mv"] = np.array([m.low for m in settings.mvs])
    mpc.bounds["upper", "_u", "mv"] = np.array([m.high for m in settings.mvs])
    _, x_sc = state_scaling(model)
    mpc.scaling["_x", "x"] = x_sc
    mpc.scaling["_u", "mv"] = np.array([m.scale for m in settings.mvs])
    for j, (c, e) in enumerate(zip(settings.cvs, cv_expr, strict=True)):
        price = settings.band_price(c)
        if np.isfinite(c.high):
            mpc.set_nl_cons(f"hi{j}", (e - c.high) / c.scale, 0.0, soft_constraint=True,
                            penalty_term_cons=price)  # fmt: skip
        if np.isfinite(c.low):
            mpc.set_nl_cons(f"lo{j}", (c.low - e) / c.scale, 0.0, soft_constraint=True,
                            penalty_term_cons=price)  # fmt: skip
    if rate_limits:
        # do-mpc's opt_x holds the inputs divided by mpc.scaling; _u_prev is unscaled.
        mpc.prepare_nlp()
        scale = ca.DM([m.scale for m in settings.mvs])
        bound = np.array([m.rate / m.scale for m in settings.mvs])
        before = mpc.opt_p["_u_prev"] / scale
        for k in range(settings.horizon):
            now = mpc.opt_x["_u", k, 0]
            mpc.nlp_cons.append(now - before)
            mpc.nlp_cons_lb.append(-bound)
            mpc.nlp_cons_ub.append(bound)
            before = now
        mpc.create_nlp()
    else:
        mpc.setup()
    xk, u = prob["x"].copy(), prob["u"].copy()
    mpc.x0 = xk
    mpc.u0 = u[mv_idx]
    mpc.set_initial_guess()
    times, cpu, first, statuses, iters = [], [], None, [], []
    for _ in range(n_steps):
        start, start_cpu = time.perf_counter(), time.process_time()
        u_new = np.asarray(mpc.make_step(xk)).ravel()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        # do-mpc returns a value even when ipopt failed: check the status here.
        stats = mpc.solver_stats
        statuses.append(str(stats.get("return_status", "")))
        iters.append(int(stats.get("iter_count", -1)))
        if not stats.get("success", False):
            break
        if first is None:
            first = u_new.copy()
        u = u.copy()
        u[mv_idx] = u_new
        xk = _plant_step(model, xk, u, prob["d"], p)
    return {"times": times, "cpu": cpu, "first": first, "statuses": statuses, "iters": iters,
            "c_b_final": float(xk[model.index("x", "reactor.c_b_mol_m3")])}  # fmt: skip


def _quantiles(times: list[float]) -> tuple[float, float]:
    """Median and p95 of the warm solves (the first, cold one left out). [s]"""
    warm = times[1:] if len(times) > 1 else times
    return statistics.median(warm), float(np.percentile(warm, 95))


def run_nmpc_benchmark(n_steps: int = 30) -> dict[str, Any]:
    """Run both closed loops and return the figures (times in seconds).

    Parameters
    ----------
    n_steps : int
        Closed-loop steps of each controller (the first, cold one is left out
        of the statistics).

    Returns
    -------
    dict
        ``ours_*`` and ``dompc_*``: ``median_s``, ``p95_s`` (wall) and
        ``cpu_median_s``, ``cpu_p95_s``; ``speedup`` and ``speedup_cpu``
        (do-mpc median / ours, NaN unless every do-mpc step converged);
        ``ours_time_ratio`` (our median wall over the control interval);
        ``dompc_rate_*`` the same for do-mpc with our rate limits and
        ``speedup_same_problem_cpu`` against it; ``first_move_diff_scaled``
        (largest first-move difference from do-mpc with our rate limits, in
        MV scales), ``first_move_diff_default_scaled`` (from do-mpc's
        default), ``ours_first_active`` (constraints active at our first
        plan), statuses, do-mpc's ipopt iterations, the final c_B of each
        loop, the NLP build time, the ipopt fallbacks and ``checks`` (target
        -> met).
    """
    prob = _plant_problem()
    ours = _ours(prob, n_steps, prob["settings"].sqp_iterations, shadow=True)
    nlp = _ours(prob, n_steps, 0)
    theirs = _do_mpc(prob, n_steps)
    same = _do_mpc(prob, n_steps, rate_limits=True)
    nm, np95 = _quantiles(nlp["times"])
    nmc, npc = _quantiles(nlp["cpu"])
    shadow = ours["shadow_diff"][1:]  # the cold first solve is ipopt's on both sides
    shadow_max = max(shadow) if shadow else float("nan")
    steps = min(ours["c_b"].size, nlp["c_b"].size)
    c_b_gap = float(np.max(np.abs(ours["c_b"][:steps] - nlp["c_b"][:steps]))) if steps else np.nan
    om, op = _quantiles(ours["times"])
    dm, dp = _quantiles(theirs["times"])
    omc, opc = _quantiles(ours["cpu"])
    dmc, dpc = _quantiles(theirs["cpu"])
    sm, sp = _quantiles(same["times"])
    smc, spc = _quantiles(same["cpu"])
    mvs = prob["settings"].mvs
    scales = np.array([m.scale for m in mvs])
    diff = diff_default = float("nan")
    if ours["first"] is not None and same["first"] is not None:
        diff = float(np.max(np.abs(ours["first"] - same["first"]) / scales))
    if ours["first"] is not None and theirs["first"] is not None:
        diff_default = float(np.max(np.abs(ours["first"] - theirs["first"]) / scales))
    # A ratio against failed solves would mean nothing.
    converged = len(theirs["times"]) == n_steps and theirs["first"] is not None
    speedup = dm / om if converged else float("nan")
    speedup_cpu = dmc / omc if converged else float("nan")
    same_converged = len(same["times"]) == n_steps and same["first"] is not None
    speedup_same_cpu = smc / omc if same_converged else float("nan")
    checks = {
        "fast path: first moves within 1 % of an MV scale of ipopt's (same requests)": (
            shadow_max < _FIRST_MOVE_TOL
        ),
        "fast path: c_B within 0.1 mol/m3 of the ipopt loop's at every step": (
            c_b_gap < _C_B_TOL_MOL_M3
        ),
        "fast path >= 1.5x faster than the ipopt path (median CPU)": nmc / omc >= 1.5,
        "NMPC >= 5x faster than do-mpc (median wall)": speedup >= 5.0,
        "NMPC >= 5x faster than do-mpc (median CPU)": speedup_cpu >= 5.0,
        "NMPC median wall < 10 ms": om < 0.01,
        "NMPC median CPU < 10 ms": omc < 0.01,
        "NMPC compute < 1 % of the interval (median wall)": om / _DT_S < 0.01,
        "NMPC >= 5x faster than do-mpc with our rate limits (median CPU)": speedup_same_cpu >= 5.0,
        "first moves agree with do-mpc's on the same problem within 1e-3 MV scales": (
            diff < _DOMPC_FIRST_MOVE_TOL
        ),
    }
    return {
        "steps": n_steps,
        "ours_median_s": om,
        "ours_p95_s": op,
        "ours_cpu_median_s": omc,
        "ours_cpu_p95_s": opc,
        "dompc_median_s": dm,
        "dompc_p95_s": dp,
        "dompc_cpu_median_s": dmc,
        "dompc_cpu_p95_s": dpc,
        "speedup": speedup,
        "speedup_cpu": speedup_cpu,
        "ours_time_ratio": om / _DT_S,
        "first_move_diff_scaled": diff,
        "first_move_diff_default_scaled": diff_default,
        "ours_first_active": ours["first_active"],
        "ours_first": ours["first"],
        "dompc_first": theirs["first"],
        "dompc_rate_first": same["first"],
        "dompc_rate_median_s": sm,
        "dompc_rate_p95_s": sp,
        "dompc_rate_cpu_median_s": smc,
        "dompc_rate_cpu_p95_s": spc,
        "dompc_rate_statuses": sorted(set(same["statuses"])),
        "dompc_rate_iterations_median": float(np.median(same["iters"])) if same["iters"] else 0.0,
        "dompc_rate_steps_done": len(same["times"]),
        "speedup_same_problem_cpu": speedup_same_cpu,
        "ours_statuses": sorted(set(ours["statuses"])),
        "dompc_statuses": sorted(set(theirs["statuses"])),
        "dompc_iterations_median": float(np.median(theirs["iters"])) if theirs["iters"] else 0.0,
        "ours_steps_done": len(ours["times"]),
        "dompc_steps_done": len(theirs["times"]),
        "ours_c_b_final": ours["c_b_final"],
        "dompc_c_b_final": theirs["c_b_final"],
        "ours_build_s": ours["build_s"],
        "ours_fallbacks": ours["fallbacks"],
        "ours_sqp_solves": ours["sqp_solves"],
        "ours_sqp_fallbacks": ours["sqp_fallbacks"],
        "ipopt_median_s": nm,
        "ipopt_p95_s": np95,
        "ipopt_cpu_median_s": nmc,
        "ipopt_cpu_p95_s": npc,
        "speedup_cpu_vs_ipopt": nmc / omc,
        "shadow_first_move_max": shadow_max,
        "shadow_first_move_median": float(np.median(shadow)) if shadow else float("nan"),
        "c_b_gap_max": c_b_gap,
        "ipopt_c_b_final": nlp["c_b_final"],
        "checks": checks,
    }


def main() -> None:
    """Print the figures of :func:`run_nmpc_benchmark` beside their targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    r = run_nmpc_benchmark(parser.parse_args().steps)
    section_report(r)
    for text, ok in r["checks"].items():
        print(f"{'PASS' if ok else 'FAIL'}  {text}")


def section_report(r: dict[str, Any]) -> None:
    """Print the figures of :func:`run_nmpc_benchmark` (without the checks).

    Parameters
    ----------
    r : dict
        Its result.
    """
    ms = 1e3
    print(f"chemical flowsheet NMPC, {_HORIZON} x {_DT_S:g} s, {r['steps']} closed-loop steps")
    print(f"{'per step [ms]':14s} {'median':>8s} {'p95':>8s} {'CPU med':>8s} {'CPU p95':>8s}")
    rows = (("ours (SQP)", "ours"), ("ours (ipopt)", "ipopt"), ("do-mpc", "dompc"),
            ("do-mpc+rates", "dompc_rate"))  # fmt: skip
    for label, key in rows:
        print(
            f"{label:14s} {r[key + '_median_s'] * ms:8.1f} {r[key + '_p95_s'] * ms:8.1f}"
            f" {r[key + '_cpu_median_s'] * ms:8.1f} {r[key + '_cpu_p95_s'] * ms:8.1f}"
        )
    print(
        f"  ours: {r['ours_steps_done']} steps {r['ours_statuses']}, build "
        f"{r['ours_build_s']:.1f} s; {r['ours_sqp_solves']} by the SQP fast path, "
        f"{r['ours_sqp_fallbacks']} handed to ipopt"
    )
    print(
        f"  fast path vs ipopt on the same requests: first moves differ by at most "
        f"{r['shadow_first_move_max']:.2e} MV scales (median {r['shadow_first_move_median']:.1e}; "
        f"tolerance {_FIRST_MOVE_TOL}); closed loops: c_B at most {r['c_b_gap_max']:.3f} mol/m3 "
        f"apart (tolerance {_C_B_TOL_MOL_M3}); CPU speedup {r['speedup_cpu_vs_ipopt']:.2f}x"
    )
    print(
        f"  do-mpc default: {r['dompc_steps_done']} steps {r['dompc_statuses']}, median "
        f"{r['dompc_iterations_median']:.0f} ipopt iterations; with our rate limits: "
        f"{r['dompc_rate_steps_done']} steps {r['dompc_rate_statuses']}, median "
        f"{r['dompc_rate_iterations_median']:.0f}"
    )
    print(
        f"  speedup (do-mpc default / ours, medians): wall {r['speedup']:.2f}x, CPU "
        f"{r['speedup_cpu']:.2f}x (target >= 5x); do-mpc with rate limits / ours: CPU "
        f"{r['speedup_same_problem_cpu']:.2f}x"
    )
    print(f"  compute / interval (median wall): {100 * r['ours_time_ratio']:.3f} % (target < 1 %)")
    print(
        f"  first move vs do-mpc with our rate limits: max |ours - do-mpc| = "
        f"{r['first_move_diff_scaled']:.1e} MV scales (tolerance {_DOMPC_FIRST_MOVE_TOL:g}); "
        f"vs do-mpc default (no rate limits): {r['first_move_diff_default_scaled']:.3f}; "
        f"active at our first plan: {', '.join(r['ours_first_active']) or '-'}"
    )
    print(f"  first moves: ours {np.array2string(r['ours_first'], precision=6)}")
    print(f"     do-mpc + rates {np.array2string(r['dompc_rate_first'], precision=6)}")
    print(f"     do-mpc default {np.array2string(r['dompc_first'], precision=6)}")
    print(
        f"  final c_B: ours {r['ours_c_b_final']:.1f}, ipopt path {r['ipopt_c_b_final']:.1f}, "
        f"do-mpc {r['dompc_c_b_final']:.1f} mol/m3"
    )


if __name__ == "__main__":
    main()
