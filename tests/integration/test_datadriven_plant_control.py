"""Controllers on a plant made only of data-driven units identified from a historian file.

Issue 4: "The controllers work for any plant the project file declares,
including one made only of generic data-driven units identified from a
historian file (a plant we have no physics for)."

End to end: the demo project ``energyopt/demos/datadriven.toml`` (a
steam-heated reactor identified as a 3rd-order state-space model, its boiler
as a quadratic map, joined at an LP steam header and a natural-gas node) and
a history recorded from the hidden truth of
:mod:`energyopt.demos.datadriven_history` (a nonlinear 4th-order reactor,
a curved boiler efficiency) are written to ``tmp_path``; the units are
identified and saved, the plant is built from the saved model files, then

(a) the NMPC with an EKF (output disturbance states for offset-free control)
    tracks a temperature setpoint step and keeps quality in its band while it
    pushes the feed to its target, on the truth in closed loop;
(b) the economic MPC recommends setpoints through the Advisor in ADVISE mode
    (limits and rate limits kept, expected saving >= 0 against holding) and,
    applied to the truth, earns more than holding the setpoints.

Every check of the closed loops is on the truth's outputs, not the model's.
"""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.optimize
from numpy.testing import assert_allclose

from controllers.advisor import (
    Advisor,
    AdvisorMode,
    AdvisorSettings,
    ControlRequest,
    FallbackLevel,
    ManipulatedVariable,
    SolveStatus,
)
from controllers.economic import (
    CostTerm,
    EconomicMPC,
    EconomicMPCSettings,
    HorizonInputs,
    SoftBand,
)
from controllers.economic import ManipulatedVariable as EconomicMV
from controllers.errors import EconomicMPCError, NmpcError
from controllers.estimation import DisturbanceState, ExtendedKalmanFilter, Measurement, augment
from controllers.nmpc import CvSpec, MvSpec, NmpcSettings, NonlinearMPC
from energyopt.data.reader import HistorianReader
from energyopt.demos.datadriven_history import (
    DT_S,
    ReactorTruth,
    boiler_fuel_m3_s,
    write_datadriven_history,
)
from energyopt.identify import identify_units, save_identified
from energyopt.plantbuild import BuiltPlant, build_plant
from energyopt.project import load_project
from plant_models.core.equations import to_casadi

T_H = 1.0 / 3.6  # 1 t/h in kg/s
C0 = 273.15  # 0 degC in K
#: Operating point of the recording's start and of both closed loops.
FEED0, STEAM0_KG_S = 0.6, 5.0 * T_H
#: MV limits: inside the identified range (feed 45-75 %, steam 3.5-6.5 t/h),
#: rate limits per one-minute interval.
FEED_LIM, FEED_RATE = (0.45, 0.75), 0.02
STEAM_LIM, STEAM_RATE = (3.5 * T_H, 6.5 * T_H), 0.25 * T_H
#: Sensor noise of the closed loops (as in the recorded history). [K, -]
NOISE = np.array([0.1, 0.0015])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """History written, units identified and saved, plant built from the saved files."""
    folder = tmp_path_factory.mktemp("datadriven")
    source = resources.files("energyopt.demos").joinpath("datadriven.toml")
    project_path = folder / "plant.toml"
    project_path.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    history = write_datadriven_history(folder / "history.h5", 3000, seed=0)
    project = load_project(project_path)
    with HistorianReader(history) as reader:
        report = identify_units(project, reader)
    written = save_identified(project_path, report)
    built = build_plant(load_project(project_path))  # from the saved JSON files
    return {"folder": folder, "report": report, "written": written, "built": built}


def _steady_state(built: BuiltPlant, u: np.ndarray) -> np.ndarray:
    """Steady state of the identified plant at inputs ``u`` (its casadi ``f`` at zero)."""
    cas = to_casadi(built.model)
    p = built.parameters()
    nd = built.model.sizes["d"]

    def rates(x: np.ndarray) -> np.ndarray:
        return np.asarray(cas.f(x, u, np.zeros(nd), p)).ravel()

    solution = scipy.optimize.root(rates, np.zeros(built.model.sizes["x"]))
    assert solution.success, solution.message
    return solution.x


def _outputs(built: BuiltPlant, x: np.ndarray, u: np.ndarray) -> dict[str, float]:
    cas = to_casadi(built.model)
    y = np.asarray(cas.g(x, u, np.zeros(built.model.sizes["d"]), built.parameters())).ravel()
    return {v.name: float(y[i]) for i, v in enumerate(built.model.outputs)}


def test_identified_plant_from_history(site: dict[str, Any]) -> None:
    report, built = site["report"], site["built"]
    assert [p.name for p in site["written"]] == ["reactor.json", "boiler.json"]
    # Hold-out free-run fit (last 20 % of the 50 h, 600 samples).  Measured with
    # seed 0: NRMSE temperature 0.10, quality 0.26, product 0.16, fuel 0.05.
    # The thresholds are about 1.4x the measured values: room for round-off in
    # the identification, not for a much worse model (for comparison a
    # first-order ARX on the same data gives 0.12 / 0.24 / 0.18).
    nrmse = {
        (unit, row["output"]): row["nrmse"]
        for unit, result in report.units.items()
        for row in result.metrics.as_rows()
    }
    assert nrmse[("reactor", "temperature")] < 0.15
    assert nrmse[("reactor", "quality")] < 0.35
    assert nrmse[("reactor", "product")] < 0.2
    assert nrmse[("boiler", "fuel")] < 0.08
    model = built.model
    assert model.dt_s is None  # the discrete units joined in continuous time
    assert [v.name for v in model.inputs] == ["reactor.feed", "reactor.steam", "boiler.steam"]
    assert {"lp_steam.net_supply", "ng.demand"} <= {v.name for v in model.outputs}
    # Identified steady state against the truth's at the operating point: an
    # independent check of the gains (the truth integrated to rest).
    u0 = np.array([FEED0, STEAM0_KG_S, STEAM0_KG_S])
    y_model = _outputs(built, _steady_state(built, u0), u0)
    t_true, q_true, product_true = ReactorTruth().settle(FEED0, STEAM0_KG_S)
    # The linear model meets the nonlinear truth within 1 K, 1.5 quality
    # points and 2 % of the product flow here (measured 0.66 K, 0.0085, 1.6 %).
    assert_allclose(y_model["reactor.temperature"], t_true, atol=1.0)
    assert_allclose(y_model["reactor.quality"], q_true, atol=0.015)
    assert_allclose(y_model["reactor.product"], product_true, rtol=0.02)
    # The boiler's quadratic map against the truth's efficiency curve: measured
    # 1e-4 relative; 0.5 % is the fuel meter's noise (2 Nm3/h on 357 Nm3/h).
    assert_allclose(y_model["boiler.fuel"], boiler_fuel_m3_s(STEAM0_KG_S), rtol=0.005)
    # Node balances are plain sums of the port flows: exact to rounding.
    assert_allclose(y_model["lp_steam.net_supply"], 0.0, atol=1e-12)
    assert_allclose(y_model["ng.demand"], y_model["boiler.fuel"], rtol=1e-12)


# ---------------------------------------------------------------- (a) NMPC tracking


T_SETPOINT_K = C0 + 82.0
QUALITY_BAND = (0.88, 0.95)
OUTPUT_DISTURBANCES = (
    DisturbanceState("w_temperature", "output", "reactor.temperature", 0.05, 1.0),
    DisturbanceState("w_quality", "output", "reactor.quality", 0.001, 0.01),
)


def _request(mpc: NonlinearMPC, meas: np.ndarray, u: np.ndarray, k: int) -> ControlRequest:
    return ControlRequest(
        time_s=DT_S * k,
        mv_current=u.copy(),
        mv_lower=np.array([FEED_LIM[0], STEAM_LIM[0]]),
        mv_upper=np.array([FEED_LIM[1], STEAM_LIM[1]]),
        mv_rate=np.array([FEED_RATE, STEAM_RATE]),
        measurements=meas,
        measurement_valid=np.ones(meas.size, dtype=bool),
        history=np.zeros((0, meas.size)),
        time_budget_s=5.0,
    )


def _nmpc(built: BuiltPlant) -> NonlinearMPC:
    settings = NmpcSettings(
        mvs=(
            # Throughput push: the feed rests at 70 % unless quality forbids it.
            MvSpec(
                "reactor.feed",
                scale=0.1,
                low=FEED_LIM[0],
                high=FEED_LIM[1],
                rate=FEED_RATE,
                target=0.70,
                target_weight=0.1,
            ),
            MvSpec(
                "reactor.steam", scale=T_H, low=STEAM_LIM[0], high=STEAM_LIM[1], rate=STEAM_RATE
            ),
        ),
        cvs=(
            CvSpec("reactor.temperature", scale=1.0, setpoint=T_SETPOINT_K),
            CvSpec(
                "reactor.quality", scale=0.01, weight=0.0, low=QUALITY_BAND[0], high=QUALITY_BAND[1]
            ),
        ),
        dt_s=DT_S,
        horizon=20,
        substeps=4,  # RK4: the fastest identified mode (-0.066 1/s) needs h < 42 s
        fixed_inputs={"boiler.steam": STEAM0_KG_S},
    )
    return NonlinearMPC(built.model, built.parameters(), settings, OUTPUT_DISTURBANCES)


def test_nmpc_tracks_temperature_step_on_the_truth(site: dict[str, Any]) -> None:
    built = site["built"]
    mpc = _nmpc(built)
    u0 = np.array([FEED0, STEAM0_KG_S, STEAM0_KG_S])
    x_hat = _steady_state(built, u0)
    aug = augment(
        built.model,
        built.parameters(),
        DT_S,
        measurements=(
            Measurement("reactor.temperature", NOISE[0]),
            Measurement("reactor.quality", NOISE[1]),
        ),
        state_std_per_step=np.full(built.model.sizes["x"], 0.01),
        initial_state_std=np.full(built.model.sizes["x"], 0.1),
        disturbance_states=OUTPUT_DISTURBANCES,
        substeps=4,
    )
    ekf = ExtendedKalmanFilter(aug, x_hat)
    truth = ReactorTruth()
    t_start = truth.settle(FEED0, STEAM0_KG_S)[0]
    assert T_SETPOINT_K - t_start > 3.0  # a real step: 78.3 degC -> 82 degC
    rng = np.random.default_rng(1)
    u = np.array([FEED0, STEAM0_KG_S])
    w_hat = np.zeros(len(OUTPUT_DISTURBANCES))
    n_steps = 40
    y_true = np.empty((n_steps, 3))
    plan_u = np.empty((n_steps, 2))
    for k in range(n_steps):
        sol = mpc.solve(_request(mpc, mpc.pack_measurements(x_hat, w_hat), u, k))
        assert sol.status is SolveStatus.OPTIMAL, sol.message
        u_new = sol.mv_plan[0]
        # Limits and rate limits hold exactly (the plan is projected onto them).
        assert np.all(np.abs(u_new - u) <= [FEED_RATE, STEAM_RATE])
        assert FEED_LIM[0] <= u_new[0] <= FEED_LIM[1]
        assert STEAM_LIM[0] <= u_new[1] <= STEAM_LIM[1]
        u = u_new
        y_true[k] = truth.step(u[0], u[1])
        y_meas = y_true[k, :2] + NOISE * rng.standard_normal(2)
        estimate = ekf.step(np.array([u[0], u[1], STEAM0_KG_S]), None, y_meas)
        x_hat, w_hat = estimate.x, estimate.disturbances
        plan_u[k] = u
    temperature, quality = y_true[:, 0], y_true[:, 1]
    # Settled: from step 10 on the truth's temperature stays within 0.3 K of the
    # setpoint (measured: inside from step 6, at most 0.08 K off after step 15;
    # the loop sees 0.1 K sensor noise), and the last ten steps average within
    # 0.05 K (measured 0.008 K: offset-free despite the model's 0.66 K error).
    assert np.max(np.abs(temperature[10:] - T_SETPOINT_K)) < 0.3
    assert abs(np.mean(temperature[-10:]) - T_SETPOINT_K) < 0.05
    # Quality never leaves its band on the truth (measured 0.903-0.915).
    assert np.all((quality >= QUALITY_BAND[0]) & (quality <= QUALITY_BAND[1]))
    # The feed reached its 70 % target (move suppression only slows it down):
    # within one rate step of 2 %.
    assert abs(plan_u[-1, 0] - 0.70) < FEED_RATE
    # Without the NMPC nothing would have moved: the first move was rate-limited.
    assert_allclose(abs(plan_u[0, 1] - STEAM0_KG_S), STEAM_RATE, rtol=1e-9)


# ---------------------------------------------------------------- (b) economic advisor


GAS_PRICE_PER_M3 = 3.5
PRODUCT_PRICE_PER_KG = 0.2
HORIZON = 30
ECONOMIC_MVS = (
    ("reactor.feed", *FEED_LIM, FEED_RATE),
    ("reactor.steam", *STEAM_LIM, STEAM_RATE),
    ("boiler.steam", *STEAM_LIM, STEAM_RATE),
)


def _economic(built: BuiltPlant) -> EconomicMPC:
    u_base = np.array([FEED0, STEAM0_KG_S, STEAM0_KG_S])
    settings = EconomicMPCSettings(
        mvs=tuple(EconomicMV(n, lo, hi, r, move_weight=1.0) for n, lo, hi, r in ECONOMIC_MVS),
        interval_s=DT_S,
        horizon=HORIZON,
        cost_terms=(
            CostTerm("ng.demand", GAS_PRICE_PER_M3, "natural gas"),
            CostTerm("reactor.product", -PRODUCT_PRICE_PER_KG, "product revenue"),
        ),
        soft_bands=(
            SoftBand("reactor.quality", 0.89, 0.95, weight_linear=1.0e4),
            SoftBand("reactor.temperature", C0 + 72.0, C0 + 85.0, weight_linear=1.0e3),
        ),
        # The header has no storage: the boiler raises exactly what the reactor draws.
        balances=("lp_steam.net_supply",),
        cv_names=("reactor.temperature", "reactor.quality", "reactor.product", "ng.demand"),
        objective_scale=1.0e-2,  # a 30-min horizon is worth ~1e3 CNY
    )

    def forecast(time_s: float) -> HorizonInputs:
        return HorizonInputs(np.zeros((HORIZON, 0)), np.zeros(HORIZON), u_base)

    return EconomicMPC(built.model, built.parameters(), settings, forecast=forecast)


def _profit_per_s(y_true: np.ndarray, steam_kg_s: float) -> float:
    """Truth's margin: product revenue minus the boiler's gas bill. [CNY/s]"""
    fuel = float(boiler_fuel_m3_s(steam_kg_s))
    return PRODUCT_PRICE_PER_KG * float(y_true[2]) - GAS_PRICE_PER_M3 * fuel


def test_economic_advisor_recommends_safe_profitable_setpoints(site: dict[str, Any]) -> None:
    built = site["built"]
    advisor = Advisor(
        _economic(built),
        AdvisorSettings(
            mvs=tuple(ManipulatedVariable(n, lo, hi, r) for n, lo, hi, r in ECONOMIC_MVS),
            measurement_names=tuple(v.name for v in built.model.states),
            interval_s=DT_S,
            time_budget_s=30.0,  # generous: a loaded 2-core machine; measured ~0.05 s
            mode=AdvisorMode.ADVISE,
        ),
    )
    lower = np.array([lo for _, lo, _, _ in ECONOMIC_MVS])
    upper = np.array([hi for _, _, hi, _ in ECONOMIC_MVS])
    rate = np.array([r for _, _, _, r in ECONOMIC_MVS])
    aug = augment(
        built.model,
        built.parameters(),
        DT_S,
        measurements=(
            Measurement("reactor.temperature", NOISE[0]),
            Measurement("reactor.quality", NOISE[1]),
        ),
        state_std_per_step=np.full(built.model.sizes["x"], 0.02),
        initial_state_std=np.full(built.model.sizes["x"], 0.1),
        substeps=4,
    )
    u = np.array([FEED0, STEAM0_KG_S, STEAM0_KG_S])
    ekf = ExtendedKalmanFilter(aug, _steady_state(built, u))
    x_hat = ekf.z[: built.model.sizes["x"]]
    truth, held = ReactorTruth(), ReactorTruth()
    truth.settle(FEED0, STEAM0_KG_S)
    held.settle(FEED0, STEAM0_KG_S)
    rng = np.random.default_rng(2)
    n_steps = 25
    profit, profit_hold, quality = 0.0, 0.0, []
    for k in range(n_steps):
        rec = advisor.recommend(DT_S * k, u, x_hat)
        assert rec.fallback is FallbackLevel.NONE, rec.fallback_reason
        assert rec.solve_status in (SolveStatus.OPTIMAL, SolveStatus.SUBOPTIMAL)
        setpoints = np.array([rec.setpoints[n] for n, *_ in ECONOMIC_MVS])
        # The advisor's guarantees, on every recommendation: finite, inside the
        # limits, within one rate step of the current setpoints (exact: projected).
        assert np.all(np.isfinite(setpoints))
        assert np.all((setpoints >= lower) & (setpoints <= upper))
        assert np.all(np.abs(setpoints - u) <= rate)
        # Holding is always a candidate plan, so the optimum cannot be worse;
        # allow ipopt's relative tolerance of the objective (1e-8 of ~1e3 CNY).
        assert rec.expected_saving is not None
        assert rec.expected_saving >= -1e-5
        # The boiler follows the reactor's steam draw (the header balance).
        assert_allclose(setpoints[2], setpoints[1], rtol=1e-6)
        u = setpoints
        y = truth.step(u[0], u[1])
        y_hold = held.step(FEED0, STEAM0_KG_S)
        profit += _profit_per_s(y, truth.state[2]) * DT_S
        profit_hold += _profit_per_s(y_hold, held.state[2]) * DT_S
        quality.append(y[1])
        y_meas = y[:2] + NOISE * rng.standard_normal(2)
        x_hat = ekf.step(u, None, y_meas).x
    # It moved to more feed and steam (the product pays for the steam): both at
    # their upper limits after 25 min (measured), to the interior-point
    # solver's distance from its bounds (measured 7e-9 relative; 1e-6 allowed).
    assert_allclose(u, [FEED_LIM[1], STEAM_LIM[1], STEAM_LIM[1]], rtol=1e-6)
    assert "reactor.feed.upper" in rec.active_constraints
    # Applied to the truth, the recommendations earn more than holding: measured
    # 3253 against 2709 CNY over 25 min (+544 CNY); +100 CNY leaves room for
    # solver tolerance and noise, not for a plan that does not pay.
    assert math.isfinite(profit)
    assert profit > profit_hold + 100.0
    # The quality band's lower edge 0.89 is kept on the truth to within one
    # point (measured minimum 0.8891): the EMPC has no disturbance model, so
    # the identified model's quality error (0.85 points) shows as an offset.
    assert min(quality) > 0.89 - 0.01


# ---------------------------------------------------------------- failure paths


def test_names_outside_the_identified_plant_are_refused(site: dict[str, Any]) -> None:
    built = site["built"]
    with pytest.raises(NmpcError, match=r"reactor\.temprature"):
        NonlinearMPC(
            built.model,
            built.parameters(),
            NmpcSettings(
                mvs=(MvSpec("reactor.feed"),),
                cvs=(CvSpec("reactor.temprature"),),
                dt_s=DT_S,
                horizon=5,
                substeps=4,
            ),
        )
    with pytest.raises(EconomicMPCError, match=r"MV 'reactor\.stem' is not an input"):
        EconomicMPC(
            built.model,
            built.parameters(),
            EconomicMPCSettings(
                mvs=(EconomicMV("reactor.stem", 0.0, 1.0),), interval_s=DT_S, horizon=5
            ),
        )


def test_unidentified_project_cannot_be_controlled(tmp_path: Path) -> None:
    from energyopt.errors import ModelError

    source = resources.files("energyopt.demos").joinpath("datadriven.toml")
    path = tmp_path / "plant.toml"
    path.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    # No history identified yet: building the plant names the unit and the remedy.
    with pytest.raises(ModelError, match=r"units\.reactor: no usable identified model"):
        build_plant(load_project(path))
