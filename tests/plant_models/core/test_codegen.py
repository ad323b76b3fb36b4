"""Generated numba kernels: agreement, exact Jacobian, disk cache, LU, errors."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from plant_models.core import codegen, straightline
from plant_models.core.codegen import compile_model, generate_source, kernel_cache_dir
from plant_models.core.equations import (
    EquationModel,
    Variable,
    equation,
    random_envelope_points,
    to_casadi,
    to_numba,
)
from plant_models.core.errors import EquationError
from plant_models.core.mathfuncs import cos, exp, fabs, fmax, fmin, log, sin, sqrt, tanh, zeros
from plant_models.core.smooth import smooth_max, smooth_step

ROOT = Path(__file__).resolve().parents[3]


@equation
def _many_f(x, u, d, p):
    # Every math name, powers, a shared subexpression and a smooth helper.
    dxdt = zeros(3)
    shared = exp(-p[0] / x[0]) * x[1]
    dxdt[0] = u[0] - shared + fmin(x[2], d[0]) ** 2
    dxdt[1] = shared - p[1] * sqrt(x[1]) + log(x[0]) * tanh(x[2] - 1.0)
    dxdt[2] = sin(x[0]) * cos(x[1]) - fabs(x[2] - d[0]) + fmax(x[0], 2.0) ** p[2]
    dxdt[2] = dxdt[2] + smooth_max(x[1], 1.5, 0.1) * smooth_step(u[0] - 0.5, 0.2)
    return dxdt


@equation
def _many_g(x, u, d, p):
    y = zeros(3)
    y[0] = p[1] * x[0] / (1.0 + x[1] * x[1])
    y[1] = u[0]  # an input passed through
    y[2] = 0.0  # a constant output
    return y


def _var(name, low, high):
    return Variable(name, "dimensionless", name, low, high)


MANY = EquationModel(
    name="many_ops",
    f=_many_f,
    g=_many_g,
    states=(_var("a", 0.5, 3.0), _var("b", 0.1, 4.0), _var("c", -1.0, 3.0)),
    inputs=(_var("q", 0.0, 1.0),),
    disturbances=(_var("r", 0.0, 2.0),),
    outputs=(_var("y0", -10, 10), _var("y1", -10, 10), _var("y2", -10, 10)),
    parameters=(_var("k0", 0.1, 2.0), _var("k1", 0.1, 2.0), _var("k2", 0.5, 2.5)),
)
P_MANY = np.array([0.7, 1.3, 1.7])


def test_generated_kernels_agree_with_casadi_and_the_plain_source():
    kernels = compile_model(MANY)
    cas = to_casadi(MANY)
    for x, u, d in random_envelope_points(MANY, 12, seed=4):
        f_gen = kernels.f(x, u, d, P_MANY)
        g_gen = kernels.g(x, u, d, P_MANY)
        # Same operations in the same order as casadi's own evaluation: agreement
        # to rounding (guide section 2: rtol 1e-12).
        assert_allclose(f_gen, np.array(cas.f(x, u, d, P_MANY)).ravel(), rtol=1e-12, atol=1e-14)
        assert_allclose(g_gen, np.array(cas.g(x, u, d, P_MANY)).ravel(), rtol=1e-12, atol=1e-14)
        # Independent of casadi: the Python source run with numpy.  Only the
        # association of sums may differ (cse, simplifications): rtol 1e-12.
        assert_allclose(f_gen, _many_f(x, u, d, P_MANY), rtol=1e-12, atol=1e-14)
        assert_allclose(g_gen, _many_g(x, u, d, P_MANY), rtol=1e-12, atol=1e-14)


def test_generated_jacobian_is_exact():
    kernels = compile_model(MANY)
    cas = to_casadi(MANY)
    jac_cas = cas.f.jacobian()
    x, u, d = random_envelope_points(MANY, 1, seed=9)[0]
    jac = kernels.jac(x, u, d, P_MANY)
    out = jac_cas(x, u, d, P_MANY, cas.f(x, u, d, P_MANY))
    # casadi's Function.jacobian returns the blocks of every input; the first is d f/d x.
    expected = np.array(out[0] if isinstance(out, list | tuple) else out["jac_dxdt_x"])
    assert_allclose(jac, expected, rtol=1e-12, atol=1e-14)
    # Against central differences (truncation ~h^2 * f''' ~ 1e-8 at h = 1e-4).
    fd = np.empty((3, 3))
    for j in range(3):
        step = np.zeros(3)
        step[j] = 1e-4
        fd[:, j] = (kernels.f(x + step, u, d, P_MANY) - kernels.f(x - step, u, d, P_MANY)) / 2e-4
    assert_allclose(jac, fd, rtol=1e-6, atol=1e-7)


@equation
def _split_f(x, u, d, p):
    # Derivatives that are mixed, state-free, constant and state-only: every
    # branch of the split into f_const_into and f_state_into.
    dxdt = zeros(4)
    drive = exp(u[0]) * p[0] + d[0]  # state-free, read by the state part
    dxdt[0] = drive - p[1] * x[0]
    dxdt[1] = u[0] * p[1] - d[0]  # state-free
    dxdt[2] = 0.0  # structural zero
    dxdt[3] = -x[3] * x[3] + 2.0  # a constant read by the state part
    return dxdt


SPLIT = EquationModel(
    name="split_ops",
    f=_split_f,
    g=_many_g,
    states=(_var("a", 0.5, 3.0), _var("b", 0.1, 4.0), _var("c", -1.0, 3.0), _var("e", 0.1, 2.0)),
    inputs=(_var("q", 0.0, 1.0),),
    disturbances=(_var("r", 0.0, 2.0),),
    outputs=MANY.outputs,
    parameters=MANY.parameters,
)


@pytest.mark.parametrize("model", [MANY, SPLIT], ids=["many_ops", "split_ops"])
def test_split_f_is_f_bit_for_bit(model):
    module = compile_model(model).module
    c = np.empty(module.N_C)
    for x, u, d in random_envelope_points(model, 12, seed=5):
        module.f_const_into(u, d, P_MANY, c)
        out = np.full(x.size, np.nan)
        module.f_state_into(x, c, out)
        # The same scalar operations in the same order on the same operands:
        # identical bits, no tolerance (the integrators' results rely on it).
        np.testing.assert_array_equal(out, module.f(x, u, d, P_MANY))
    # SPLIT: drive is passed through c, d[1] is state-free, so is the constant 0.
    assert module.N_C >= 2


def test_rk4_kernel_is_classical_rk4_on_f_bit_for_bit():
    # An independent RK4 in numpy on the generated f (not its split form):
    # elementwise IEEE operations in the kernel's order give identical bits.
    kernels = compile_model(SPLIT)
    rng = np.random.default_rng(3)
    x0 = np.array([1.0, 1.0, 0.5, 1.0])
    u = rng.uniform(0.0, 1.0, (5, 1))
    d = rng.uniform(0.0, 2.0, (5, 1))
    xs = np.empty((6, 4))
    ys = np.empty((5, 3))
    assert kernels.module.run_rk4(x0, u, d, P_MANY, 0.3, 2, xs, ys) == 0
    x = x0.copy()
    hs = 0.15
    for k in range(5):
        for _ in range(2):
            k1 = kernels.f(x, u[k], d[k], P_MANY)
            k2 = kernels.f(x + 0.5 * hs * k1, u[k], d[k], P_MANY)
            k3 = kernels.f(x + 0.5 * hs * k2, u[k], d[k], P_MANY)
            k4 = kernels.f(x + hs * k3, u[k], d[k], P_MANY)
            x = x + hs / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        np.testing.assert_array_equal(xs[k + 1], x)


def test_to_numba_backends_agree():
    x, u, d = random_envelope_points(MANY, 1, seed=2)[0]
    generated = to_numba(MANY)
    rebound = to_numba(MANY, backend="rebind")
    # Two compilations of one source (casadi graph vs rebinding): rounding only.
    assert_allclose(generated.f(x, u, d, P_MANY), rebound.f(x, u, d, P_MANY), rtol=1e-12)
    with pytest.raises(EquationError, match="backend must be"):
        to_numba(MANY, backend="llvm")


def test_source_is_deterministic_and_named_by_its_hash():
    source = generate_source(MANY)
    assert source == generate_source(MANY)
    kernels = compile_model(MANY)
    assert kernels.path.read_text("utf-8") == source
    assert kernels.path.name.startswith("many_ops_")
    assert compile_model(MANY) is kernels


def test_unsupported_operation_is_named(monkeypatch):
    monkeypatch.delitem(straightline.OPS, "OP_TANH")
    with pytest.raises(EquationError, match="OP_TANH"):
        generate_source(MANY)


def test_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(codegen.KERNEL_DIR_ENV, str(tmp_path / "k"))
    assert kernel_cache_dir() == tmp_path / "k"
    monkeypatch.delenv(codegen.KERNEL_DIR_ENV)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "n"))
    assert kernel_cache_dir() == tmp_path / "n" / "energyopt-kernels"


def test_unwritable_cache_folder_falls_back_to_a_private_one(monkeypatch, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(codegen.KERNEL_DIR_ENV, str(blocker / "kernels"))
    path = codegen._write_module("x = 1\n", "probe_module")
    assert path.read_text("utf-8") == "x = 1\n"
    assert blocker not in path.parents


def test_lu_kernels_solve_with_pivoting():
    module = compile_model(MANY).module
    rng = np.random.default_rng(1)
    a = rng.standard_normal((6, 6))
    a[0, 0] = 0.0  # needs a row swap
    b = rng.standard_normal(6)
    lu = a.copy()
    piv = np.empty(6, dtype=np.int64)
    assert module._lu_factor(lu, piv)
    x = b.copy()
    module._lu_solve(lu, piv, x)
    # Partial pivoting on a well-conditioned 6x6 matrix: backward stable, ~1e-14.
    assert_allclose(x, np.linalg.solve(a, b), rtol=1e-10, atol=1e-12)
    assert not module._lu_factor(np.zeros((3, 3)), np.empty(3, dtype=np.int64))


_SECOND_PROCESS = textwrap.dedent(
    """
    import numpy as np
    from plant_models.core.codegen import compile_model
    from tests.plant_models.core.test_codegen import MANY, P_MANY
    kernels = compile_model(MANY)
    x = np.array([1.0, 1.0, 1.0])
    kernels.f(x, np.zeros(1), np.ones(1), P_MANY)
    print(sum(kernels.f.stats.cache_hits.values()))
    """
)


@pytest.mark.slow
def test_second_process_loads_the_compiled_kernels_from_disk(tmp_path):
    env_dir = str(tmp_path)
    env = {**os.environ, "ENERGYOPT_KERNEL_DIR": env_dir, "NUMBA_CACHE_DIR": env_dir}
    hits = []
    for _ in range(2):
        out = subprocess.run(
            [sys.executable, "-c", _SECOND_PROCESS],
            cwd=ROOT,
            env={**env, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            check=True,
        )
        hits.append(int(out.stdout.split()[-1]))
    # First process compiles (no hit), the second loads the kernel from the cache.
    assert hits == [0, 1]
