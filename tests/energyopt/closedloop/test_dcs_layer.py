"""DCS PI loops (energyopt.closedloop.dcs) and their declaration in ``[controller.dcs]``."""

from __future__ import annotations

import copy
import tomllib
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose

from energyopt.closedloop.dcs import DcsLayer, PiLoop, _allocate, build_dcs_loops
from energyopt.closedloop.policies import DcsOverlay, Decision
from energyopt.demos import demo_project_text
from energyopt.errors import ModelError, ProjectError
from energyopt.project import Project
from energyopt.project.loader import project_from_mapping

STEP_S = 60.0
#: Header capacitance of the small plant, V d(rho)/dp. [kg/Pa]
C_KG_PA = 3.6e-4
SP_PA = 9.8e6


def _loop(**kw: Any) -> PiLoop:
    spec: dict[str, Any] = {
        "name": "pic",
        "measurement": 0,
        "measurement_name": "header.pressure_pa",
        "actuators": (0,),
        "split": (1.0,),
        "gain": C_KG_PA / 80.0,
        "integral_time_s": 320.0,
        "reverse": False,
        "low": (0.0,),
        "high": (100.0,),
        "rate_per_s": (np.inf,),
        "setpoint": SP_PA,
    }
    spec.update(kw)
    return PiLoop(**spec)


def _simulate(layer: DcsLayer, inflow_kg_s: np.ndarray, base_kg_s: float) -> np.ndarray:
    """Header p' = (inflow - u) / C, exact over each step (u, inflow held); returns u, p."""
    n = inflow_kg_s.size
    p = np.empty(n + 1)
    u = np.empty(n)
    p[0] = SP_PA
    layer.reset()
    for k in range(n):
        vec = np.array([base_kg_s])
        layer.apply(vec, np.array([p[k]]), k)
        u[k] = vec[0]
        p[k + 1] = p[k] + STEP_S * (inflow_kg_s[k] - u[k]) / C_KG_PA
    return np.stack([np.append(u, np.nan), p])


def test_pi_holds_setpoint_under_step_disturbance() -> None:
    """Velocity-form PI against the textbook position form computed independently."""
    n = 120
    inflow = np.full(n, 50.0)
    inflow[10:] = 52.0  # +2 kg/s step at 10 min
    loop = _loop()
    u, p = _simulate(DcsLayer([loop], STEP_S), inflow, base_kg_s=50.0)
    # Independent: position form u = base + Kp (e + sum(e) dt / Ti), e = p - sp
    # (direct acting), on the same exact header discretisation.
    kp, ti = loop.gain, loop.integral_time_s
    p_ref, u_ref, acc = [SP_PA], [], 0.0
    for k in range(n):
        e = p_ref[k] - SP_PA
        acc += e
        u_ref.append(50.0 + kp * (e + acc * STEP_S / ti))
        p_ref.append(p_ref[k] + STEP_S * (inflow[k] - u_ref[k]) / C_KG_PA)
    # Same arithmetic in two orders: rounding only.
    assert_allclose(u[:n], u_ref, rtol=1e-10)
    assert_allclose(p, p_ref, rtol=1e-10)
    # Integral action: back at the setpoint, the MV takes the whole step
    # (the closed-loop poles are 0.35 and 0.71 per step: after 110 steps the
    # error is below 1e-9 of the step's effect).
    assert abs(p[-1] - SP_PA) < 1e-3
    assert_allclose(u[n - 1], 52.0, rtol=1e-9)


def test_anti_windup_and_rate_limit() -> None:
    """The correction never exceeds the MV limit, so it leaves the limit before a wound-up PI."""
    n = 120
    inflow = np.full(n, 50.0)
    inflow[:20] = 56.0  # more than the MV can take for 20 min: pressure rises
    loop = _loop(high=(55.0,), rate_per_s=(1.0 / 60.0,))
    u, _ = _simulate(DcsLayer([loop], STEP_S), inflow, base_kg_s=50.0)
    moves = np.diff(u[:n])
    # Rate limit: at most 1 kg/s per 60-s step (float rounding).
    assert np.all(np.abs(moves) <= 1.0 + 1e-12)
    assert np.max(u[:n]) == pytest.approx(55.0)
    # Independent reference without anti-windup: position-form PI whose
    # integral keeps summing while its output is clipped at the limit.
    kp, ti = loop.gain, loop.integral_time_s
    p_ref, u_ref, acc = SP_PA, [], 0.0
    for k in range(n):
        e = p_ref - SP_PA
        acc += e
        u_ref.append(min(max(50.0 + kp * (e + acc * STEP_S / ti), 0.0), 55.0))
        p_ref += STEP_S * (inflow[k] - u_ref[k]) / C_KG_PA
    leave = int(np.argmax(u[20:n] < 55.0 - 1e-9))
    leave_ref = int(np.argmax(np.asarray(u_ref[20:]) < 55.0 - 1e-9))
    assert 0 < leave < leave_ref, (leave, leave_ref)


def test_split_redistributes_saturated_share() -> None:
    """What a saturated actuator cannot take goes to the others by their shares."""
    out = _allocate(
        9.0, np.array([1.0, 1.0, 1.0]) / 3.0, np.array([-1, -1, -10.0]), np.array([0.5, 0.5, 20.0])
    )
    assert_allclose(out, [0.5, 0.5, 8.0])  # exact arithmetic on these numbers
    out = _allocate(-3.0, np.array([0.25, 0.75]), np.array([-5.0, -5.0]), np.array([5.0, 5.0]))
    assert_allclose(out, [-0.75, -2.25])


def test_rebase_absorbed_restarts_correction() -> None:
    """A controller that read the trimmed inputs takes the trim over."""
    layer = DcsLayer([_loop()], STEP_S)
    layer.reset()
    u = np.array([50.0])
    layer.apply(u, np.array([SP_PA + 1e5]), 0)
    assert layer.corrections()[0][0] > 0.0
    layer.rebase(absorbed=False)
    assert layer.corrections()[0][0] > 0.0
    layer.rebase(absorbed=True)
    assert layer.corrections()[0][0] == 0.0


def test_controller_setpoint_from_prediction() -> None:
    """setpoint None follows the controller's predicted CV given at its decision."""

    class Fixed:
        interval_s = 120.0

        def reset(self, u0: np.ndarray, x0: np.ndarray) -> None:
            pass

        def decide(self, t_s: float, y: np.ndarray, d: np.ndarray, mode: str | None) -> Decision:
            return Decision(np.array([50.0]), 0.0, "optimal", {"header.pressure_pa": 9.9e6})

    layer = DcsLayer([_loop(setpoint=None)], STEP_S)
    policy = DcsOverlay(Fixed(), layer, STEP_S)
    policy.reset(np.array([50.0]), np.zeros(1))
    # At the predicted value: no correction; below it (direct acting): less flow.
    assert policy.decide(0.0, np.array([9.9e6]), np.zeros(0), None).u[0] == pytest.approx(50.0)
    assert policy.decide(60.0, np.array([9.8e6]), np.zeros(0), None).u[0] < 50.0


def test_layer_rejects_input_driven_twice() -> None:
    with pytest.raises(ModelError, match="already driven by loop pic"):
        DcsLayer([_loop(), _loop(name="other")], STEP_S)


# ------------------------------------------------------------ declarations


def _demo() -> dict[str, Any]:
    return tomllib.loads(demo_project_text("steelworks"))


def _with_loop(**loop: Any) -> dict[str, Any]:
    data = _demo()
    spec = {
        "measurement": "hp_pressure",
        "actuators": ["boiler_1_bfg"],
        "setpoint": "9.8 MPa",
        "action": "direct",
        "gain": 1e-6,
        "integral_time_s": 300,
    }
    spec.update(loop)
    data["controller"]["dcs"]["loops"]["extra"] = spec
    return data


@pytest.mark.parametrize(
    ("loop", "fragment"),
    [
        ({"measurement": "hp_presure"}, "no binding 'hp_presure'"),
        ({"actuators": ["tg_1_inlet"]}, "'tg_1.flow_in_kg_s' is already driven by DCS loop"),
        ({"actuators": ["hp_pressure"]}, "binding 'hp_pressure' is controlled, not manipulated"),
        ({"actuators": ["nowhere.flow"]}, "no unit or media node 'nowhere'"),
        ({"split": [1.0, 2.0]}, "needs one entry per actuator (1), got 2"),
        ({"setpoint": "recorded"}, "unknown setpoint source 'recorded'"),
        ({"gain": -1.0}, "must be positive"),
        ({"action": "up"}, "action"),
        ({"measurement": "bfg_holder.volume_m3", "setpoint": "record"}, "needs a binding"),
    ],
)
def test_declaration_errors(loop: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ProjectError) as info:
        project_from_mapping(_with_loop(**loop), source="plant.toml")
    assert fragment in str(info.value)
    assert "controller.dcs.loops.extra" in str(info.value)


def test_build_errors_on_the_plant() -> None:
    from energyopt.plantbuild import build_plant

    cases = [
        ({"measurement": "boiler_1.fuel_0_m3_s"}, "is not a plant output"),
        ({"actuators": ["hp_header.pressure_pa"]}, "is not a plant input"),
        ({"gain": "3 MW"}, "controller.dcs.loops.extra.gain"),
        ({"setpoint": "record"}, "'record' needs the recorded tag"),
    ]
    for loop, fragment in cases:
        project = Project.model_validate(_with_loop(**loop))
        with pytest.raises(ProjectError, match=fragment.replace(".", r"\.")):
            build_dcs_loops(build_plant(project))


def test_demo_loops_resolve() -> None:
    """The demo's header loops: SI gains from the documented SIMC numbers."""
    from energyopt.plantbuild import build_plant

    project = Project.model_validate(_demo())
    built = build_plant(project)
    loops = {lp.name: lp for lp in build_dcs_loops(built, "mpc")}
    assert set(loops) == {"hp_pressure", "mp_pressure", "lp_pressure"}
    hp = loops["hp_pressure"]
    # Kc = C / (tau_c + theta) = 120 m3 x 3.0e-6 s2/m2 / 80 s, written as 16.2 t/h/MPa.
    assert_allclose(hp.gain, 120 * 3.0e-6 / 80.0, rtol=1e-9)
    assert not hp.reverse
    assert loops["lp_pressure"].reverse
    assert hp.setpoint == pytest.approx(9.8e6)
    # Turbine inlets carry their binding's 4 t/h per min rate limit. [kg/s per s]
    assert_allclose(hp.rate_per_s[:2], [4000 / 3600 / 60] * 2, rtol=1e-12)
    off = copy.deepcopy(_demo())
    off["controller"]["dcs"]["enabled"] = False
    assert build_dcs_loops(build_plant(Project.model_validate(off))) == ()
