"""Alexander's three-stage SDIRK (``method="sdirk3"``): tableau, order 3, L-stability."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.linalg import expm

from plant_models.core import kernels
from plant_models.core.equations import EquationModel, Variable, equation
from plant_models.core.errors import SimulationError
from plant_models.core.mathfuncs import zeros
from plant_models.core.simulate import METHODS, simulate, simulate_batch


@equation
def _lin_f(x, u, d, p):
    # dx/dt = A x + B u with A = [[p0, p1], [p2, p3]], B = [1, 0]^T.
    dxdt = zeros(2)
    dxdt[0] = p[0] * x[0] + p[1] * x[1] + u[0]
    dxdt[1] = p[2] * x[0] + p[3] * x[1]
    return dxdt


@equation
def _lin_g(x, u, d, p):
    y = zeros(1)
    y[0] = x[0]
    return y


def _var(name):
    return Variable(name, "dimensionless", name, -10.0, 10.0)


LIN = EquationModel(
    name="sdirk3_linear2",
    f=_lin_f,
    g=_lin_g,
    states=(_var("x0"), _var("x1")),
    inputs=(_var("u0"),),
    disturbances=(),
    outputs=(_var("y0"),),
    parameters=(_var("a00"), _var("a01"), _var("a10"), _var("a11")),
)
# Stiff: eigenvalues -1e4 (fast, x0 relaxing onto x1) and -1 (slow, x1).
P_STIFF = np.array([-1.0e4, 1.0e4 - 1.0, 0.0, -1.0])
X0_STIFF = np.array([2.0, 1.0])


def _tableau():
    """Butcher tableau (A, b, c) of the kernel's constants."""
    g = kernels._GAMMA3
    a = np.array(
        [
            [g, 0.0, 0.0],
            [kernels._A21_3, g, 0.0],
            [kernels._B1_3, kernels._B2_3, g],
        ]
    )
    return a, a[-1].copy(), a.sum(axis=1)


def _stability_function(z):
    """R(z) = 1 + z b^T (I - z A)^-1 1 of the tableau (Hairer and Wanner II, eq. IV.3.2)."""
    a, b, _ = _tableau()
    return 1.0 + z * b @ np.linalg.solve(np.eye(3) - z * a, np.ones(3))


def test_tableau_satisfies_the_order_3_conditions_and_l_stability():
    a, b, c = _tableau()
    # gamma: the root of 6 g^3 - 18 g^2 + 9 g - 1 in (1/3, 1/2), found
    # independently by numpy (companion-matrix eigenvalues, accurate to a few
    # ulp: 1e-14); the literal's 26 digits make the cubic vanish to rounding.
    roots = np.roots([6.0, -18.0, 9.0, -1.0])
    root = [r.real for r in roots if abs(r.imag) < 1e-12 and 1.0 / 3.0 < r.real < 0.5]
    assert_allclose(kernels._GAMMA3, root, rtol=1e-14)
    g = kernels._GAMMA3
    assert_allclose(6.0 * g**3 - 18.0 * g**2 + 9.0 * g - 1.0, 0.0, atol=1e-15)
    # Order conditions up to 3 (Butcher): sum b = 1, b.c = 1/2, b.c^2 = 1/3,
    # b.A.c = 1/6; exact rationals, so only rounding of the coefficients (1e-14).
    assert_allclose(
        [b.sum(), b @ c, b @ c**2, b @ a @ c], [1.0, 0.5, 1.0 / 3.0, 1.0 / 6.0], rtol=1e-14
    )
    # Not order 4: b.c^3 = 1/4 fails (so the observed order below is 3, not more).
    assert abs(b @ c**3 - 0.25) > 1e-3
    # L-stability: R(infinity) = 1 - b^T A^-1 1 = 0 (stiffly accurate), to rounding.
    assert_allclose(1.0 - b @ np.linalg.solve(a, np.ones(3)), 0.0, atol=1e-14)


def _slow_error(method, n_steps, t_end=2.0):
    res = simulate(
        LIN,
        X0_STIFF,
        np.zeros((n_steps, 1)),
        None,
        P_STIFF,
        t_end / n_steps,
        method=method,
        newton_tol=1e-14,
    )
    exact = expm(P_STIFF.reshape(2, 2) * t_end) @ X0_STIFF
    return np.linalg.norm(res.states[-1] - exact)


def test_third_order_convergence_on_a_stiff_linear_problem():
    # h * lambda_fast = -1e3 ... -1.25e2: the fast mode is damped, the slow
    # one converges at order 3: halving the step divides the error by ~8.
    errors = np.array([_slow_error("sdirk3", n) for n in (20, 40, 80, 160)])
    ratios = errors[:-1] / errors[1:]
    # Asymptotic ratio 2**3 = 8; at these steps the next term shifts it by a
    # few per cent (observed 7.6-7.9), so +-10 % separates order 3 from 2 or 4.
    assert_allclose(ratios, 8.0, rtol=0.1)
    # And it beats SDIRK2 (ratio ~4) by far at the same step: 3rd vs 2nd order.
    assert errors[-1] < 0.05 * _slow_error("sdirk2", 160)


@pytest.mark.parametrize("z", [-0.5, -3.0, -40.0, -1.0e3, -1.0e5])
def test_one_step_amplification_is_the_stability_function(z):
    # x0' = lambda x0 (x1 = 0): one step of h = 1 multiplies x0 by R(lambda h).
    p = np.array([z, 0.0, 0.0, -1.0])
    res = simulate(
        LIN, [1.0, 0.0], np.zeros((1, 1)), None, p, 1.0, method="sdirk3", newton_tol=1e-15
    )
    # Linear: Newton converges to rounding (newton_tol 1e-15 of the scale 10),
    # so the kernel's amplification matches R(z) to ~1e-14 absolute.
    assert_allclose(res.states[1, 0], _stability_function(z), rtol=1e-9, atol=1e-13)


def test_l_stability_damps_a_very_stiff_mode():
    # lambda h = -1e6: an L-stable method leaves |R| ~ 1/|z| (here ~3e-6 a
    # step), where an A-stable-only one (trapezoidal rule: R -> -1) would
    # keep the mode at full amplitude, flipping its sign every step.
    r_fast = _stability_function(-1.0e6)
    assert abs(r_fast) < 1e-5
    p = np.array([-1.0e6, 0.0, 0.0, -1.0])
    res = simulate(LIN, [1.0, 1.0], np.zeros((3, 1)), None, p, 1.0, method="sdirk3")
    # Linear problem, exact Jacobian: Newton solves each stage to rounding, so
    # the fast mode is R^k after k steps (2.9e-6, 8e-12, 2e-17) to ~1e-9 relative.
    assert_allclose(res.states[1:, 0], r_fast ** np.arange(1.0, 4.0), rtol=1e-6)
    # The slow mode (h lambda = -1) meanwhile decays by R(-1) = 0.9825 e^-1 a
    # step (to rounding, as above), not damped like the fast one.
    assert_allclose(res.states[1:, 1], _stability_function(-1.0) ** np.arange(1.0, 4.0), rtol=1e-9)
    assert_allclose(_stability_function(-1.0), np.exp(-1.0), rtol=0.02)


def test_stiff_problem_with_input_matches_the_exact_zero_order_hold_solution():
    # Held input u = 1 on the stiff system: exact solution of the augmented
    # system [x; u]' = [[A, B], [0, 0]] [x; u] (scipy.linalg.expm).
    n, h = 40, 0.05
    res = simulate(
        LIN, X0_STIFF, np.ones((n, 1)), None, P_STIFF, h, method="sdirk3", newton_tol=1e-13
    )
    aug = np.zeros((3, 3))
    aug[:2, :2] = P_STIFF.reshape(2, 2)
    aug[0, 2] = 1.0
    exact = expm(aug * n * h) @ np.array([*X0_STIFF, 1.0])
    # Global error C h^3 with C ~ 0.05 at h = 0.05: ~1e-5 absolute at most.
    assert_allclose(res.states[-1], exact[:2], atol=2e-5)


def test_batch_equals_serial_and_method_is_listed():
    assert "sdirk3" in METHODS
    rng = np.random.default_rng(7)
    n_s, n = 4, 30
    p = P_STIFF * rng.uniform(0.5, 1.5, (n_s, 4))
    u = rng.normal(size=(n_s, n, 1))
    batch = simulate_batch(LIN, X0_STIFF, u, None, p, 0.05, method="sdirk3")
    for s in range(n_s):
        serial = simulate(LIN, X0_STIFF, u[s], None, p[s], 0.05, method="sdirk3")
        # Same compiled arithmetic per scenario: identical up to rounding.
        assert_allclose(batch.states[s], serial.states, rtol=1e-14, atol=1e-300)


def test_failed_newton_is_reported_with_the_time():
    # f overflows to inf at a state near the float64 limit: every Newton
    # attempt, and the eight shorter retries, fail in the first interval.
    huge = np.array([1.0e300, 0.0])
    p = np.array([1.0e10, 0.0, 0.0, 0.0])
    with pytest.raises(SimulationError, match=r"implicit step failed to converge.*t = 5 s"):
        simulate(LIN, huge, np.zeros((3, 1)), None, p, 1.0, method="sdirk3", t0_s=5.0)
