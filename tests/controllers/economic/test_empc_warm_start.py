"""Economic MPC warm start: a feasible initial guess and the warm barrier start.

The former warm configuration (``warm_start_mu_init=1e-4``) is the reference:
the new default must reach the same optimum, in fewer ipopt iterations.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from numpy.testing import assert_allclose

from controllers.advisor.contract import SolveStatus
from controllers.economic import EconomicMPC, HorizonInputs, SoftBand
from controllers.economic.commitment_plan import NLPBounds
from controllers.errors import EconomicMPCError
from plant_models.core.simulate import simulate
from tests.controllers.economic.conftest import INTERVAL_S, scenario, settings

HORIZON = 12
ROLLS = 4


@pytest.fixture(scope="module")
def rolling_case():
    """Plant, truth run and disturbances for ``ROLLS`` rolling horizons of 12 x 1 min."""
    built, run, d, price = scenario(INTERVAL_S, HORIZON + ROLLS)
    return built, run, d, price


def _mpc(built, run, **changes):
    s = dataclasses.replace(settings(INTERVAL_S, HORIZON), **changes)
    reference = (run.states[0], run.inputs[0], run.disturbances[0])
    return EconomicMPC(built.model, built.parameters(), s, reference=reference)


def _mv0(built, mpc, run):
    low = np.array([m.low for m in mpc.settings.mvs])
    high = np.array([m.high for m in mpc.settings.mvs])
    return np.clip(run.inputs[0][[built.index("u", n) for n in mpc.mv_names]], low, high)


def test_initial_guess_meets_every_band_and_hard_limit_row(rolling_case):
    built, run, d, price = rolling_case
    # A band the BFG holder is certainly outside (its level is 0.3-0.7), so the
    # guess's band slacks must be non-zero for the band rows to hold.
    band = SoftBand("bfg_holder.level_fraction", 0.0, 0.01, 1.0e5)
    mpc = _mpc(built, run, soft_bands=(band,))
    mv0 = _mv0(built, mpc, run)
    horizon = HorizonInputs(d[:HORIZON], price[:HORIZON], run.inputs[0])
    x, mv, dd, pr, u_base = mpc._check_inputs(run.states[0], mv0, horizon)
    low, high, rate = mpc._limits(None, None, None)
    z0 = mpc._initial_guess(x, mv, dd, u_base, low, high, None)
    _, g0, _ = mpc._linearise(z0, mpc._pvec(x, mv, dd, pr, u_base))
    g0 = np.asarray(g0, dtype=float).ravel()
    lbg, ubg = mpc._bounds_g(NLPBounds.free(low, high, rate, 0))
    sizes = [part.size for part in mpc._nlp.lbg_parts]
    first = sum(sizes[:2])  # after the dynamics and the MV-move rows
    last = first + 2 * HORIZON * (1 + len(mpc._layout.settings.hard_limits))
    rows = slice(first, last)
    # Band slack actually used: the level is ~0.3-0.7 above the band's top.
    assert np.max(z0) > 0.2
    # Round-off only: the slacks are the excursions of the same evaluation.
    assert np.all(g0[rows] >= lbg[rows] - 1e-12)
    assert np.all(g0[rows] <= ubg[rows] + 1e-12)


def test_warm_solves_reach_the_former_configurations_optimum(rolling_case):
    built, run, d, price = rolling_case
    new = _mpc(built, run)
    former = _mpc(built, run, warm_start_mu_init=1.0e-4)
    mv = _mv0(built, new, run)
    objectives: dict[str, list[float]] = {"new": [], "former": []}
    iterations: dict[str, list[int]] = {"new": [], "former": []}
    p = built.parameters()
    u = run.inputs[0].copy()
    mv_index = [built.index("u", n) for n in new.mv_names]
    x = run.states[0].copy()
    for k in range(ROLLS):
        horizon = HorizonInputs(d[k : k + HORIZON], price[k : k + HORIZON], run.inputs[0])
        for name, mpc in (("former", former), ("new", new)):
            sol = mpc.plan(x, mv, horizon)
            assert sol.status is SolveStatus.OPTIMAL, (name, k, sol.message)
            objectives[name].append(sol.objective)
            iterations[name].append(mpc.last_stats["iterations"])
        # The plant (the model, RK4 at 5 s) follows the new plan's first move.
        mv = sol.mv_plan[0]
        u[mv_index] = mv
        res = simulate(
            built.model, x, u[None, :], d[k][None, :], p, INTERVAL_S, substeps=12, method="rk4"
        )
        x = res.states[-1]
    # Both stop within ~2e-8 (relative) of the optimum at tolerance 1e-9 (see
    # conftest.settings); 1e-6 leaves room for the plans' rate projection.
    assert_allclose(objectives["new"], objectives["former"], rtol=1e-6)
    # The first solve is cold and identical; the warm ones need fewer iterations.
    assert iterations["new"][0] == iterations["former"][0]
    assert sum(iterations["new"][1:]) < sum(iterations["former"][1:])


def test_non_positive_warm_start_mu_init_is_rejected():
    with pytest.raises(EconomicMPCError, match="warm_start_mu_init"):
        dataclasses.replace(settings(INTERVAL_S, HORIZON), warm_start_mu_init=0.0)


def test_warm_solver_is_built_on_its_first_use(rolling_case):
    built, run, d, price = rolling_case
    mpc = _mpc(built, run)
    warm = mpc._nlp.solver_warm
    # The first solve is cold: building the warm ipopt instance at construction
    # doubled the NLP set-up the advisor's first recommendation waits for.
    assert not warm.built
    mv = _mv0(built, mpc, run)
    first = mpc.plan(run.states[0], mv, HorizonInputs(d[:HORIZON], price[:HORIZON], run.inputs[0]))
    assert first.status.usable
    assert not warm.built
    second = mpc.plan(
        run.states[1], mv, HorizonInputs(d[1 : HORIZON + 1], price[1 : HORIZON + 1], run.inputs[0])
    )
    assert second.status.usable
    assert warm.built
    # Attribute access goes to the built solver (ipopt's statistics of the warm solve).
    assert "return_status" in warm.stats()


def _roll(mpc, built, run, d, price, guesses):
    """Plan ``len(guesses)`` rolling steps from the truth run's states; ``guesses(k, prev)``."""
    mv = _mv0(built, mpc, run)
    out = []
    prev = None
    for k, make_guess in enumerate(guesses):
        horizon = HorizonInputs(d[k : k + HORIZON], price[k : k + HORIZON], run.inputs[0])
        sol = mpc.plan(run.states[k], mv, horizon, mv_guess=make_guess(prev))
        assert sol.status.usable, sol.message
        out.append((sol, dict(mpc.last_stats)))
        prev = sol
    return out


def test_own_shifted_plan_as_guess_keeps_the_warm_start(rolling_case):
    built, run, d, price = rolling_case
    # A closed loop hands the previous plan's tail back as the guess.
    own = _roll(
        _mpc(built, run),
        built,
        run,
        d,
        price,
        [lambda prev: None if prev is None else prev.mv_plan[1:]] * 3,
    )
    bare = _roll(_mpc(built, run), built, run, d, price, [lambda prev: None] * 3)
    assert [s["warm_start"] for _, s in own] == [False, True, True]
    # The same solves: the own tail is the warm start's own primal start, so
    # ipopt takes the same path bit for bit (same iterations, same plan).
    assert [s["iterations"] for _, s in own] == [s["iterations"] for _, s in bare]
    for (a, _), (b, _) in zip(own, bare, strict=True):
        assert_allclose(a.mv_plan, b.mv_plan, rtol=0.0, atol=0.0)


def test_another_guess_solves_cold_and_reset_forgets_the_warm_start(rolling_case):
    built, run, d, price = rolling_case
    mpc = _mpc(built, run)

    def perturbed(prev):
        # 1 % of each MV's span off the own tail: a caller's different guess.
        span = np.array([m.high - m.low for m in mpc.settings.mvs])
        return prev.mv_plan[1:] + 0.01 * span

    runs = _roll(mpc, built, run, d, price, [lambda prev: None, perturbed])
    assert [s["warm_start"] for _, s in runs] == [False, False]
    mpc.plan(
        run.states[2], runs[-1][0].mv_plan[0], HorizonInputs(d[2:14], price[2:14], run.inputs[0])
    )
    assert mpc.last_stats["warm_start"] is True
    mpc.reset()
    mpc.plan(
        run.states[3], runs[-1][0].mv_plan[0], HorizonInputs(d[3:15], price[3:15], run.inputs[0])
    )
    assert mpc.last_stats["warm_start"] is False
