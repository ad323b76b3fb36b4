"""Thread count of casadi's bundled OpenBLAS, set by the NMPC (``blas_threads``)."""

from __future__ import annotations

import dataclasses
import os

import casadi as ca
import pytest

from controllers.errors import NmpcError
from controllers.nmpc import NmpcSettings, NonlinearMPC
from controllers.nmpc.blas import casadi_blas_threads, set_casadi_blas_threads
from tests.controllers.nmpc.test_nmpc_cstr import MODEL, P_NOM, TRACK, _settings


@pytest.fixture
def casadi_blas():
    """casadi's OpenBLAS loaded (by an ipopt solve); its thread count restored after."""
    x = ca.SX.sym("x")
    options = {"print_time": False, "ipopt.print_level": 0, "ipopt.sb": "yes"}
    solver = ca.nlpsol("blas_probe", "ipopt", {"x": x, "f": (x - 1.0) ** 2}, options)
    solver(x0=0.0)
    before = casadi_blas_threads()
    if before is None:
        pytest.skip("casadi's bundled OpenBLAS is not in this casadi build")
    yield before
    set_casadi_blas_threads(before)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "1"])
def test_thread_count_must_be_a_positive_integer(bad):
    with pytest.raises(NmpcError, match="n_threads must be an integer >= 1"):
        set_casadi_blas_threads(bad)


def test_setting_the_count_returns_the_previous_one(casadi_blas):
    set_casadi_blas_threads(1)
    assert casadi_blas_threads() == 1
    if (os.cpu_count() or 1) >= 2:
        assert set_casadi_blas_threads(2) == 1
        assert casadi_blas_threads() == 2
        assert set_casadi_blas_threads(1) == 2


def test_settings_reject_a_bad_blas_thread_count():
    with pytest.raises(NmpcError, match="blas_threads must be None or an integer >= 1"):
        _settings(TRACK, blas_threads=0)
    assert _settings(TRACK, blas_threads=None).blas_threads is None
    assert NmpcSettings.__dataclass_fields__["blas_threads"].default == 1


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: 1 and 2 threads are the same")
def test_the_controller_sets_the_count_unless_told_not_to(casadi_blas):
    settings = dataclasses.replace(_settings(TRACK), horizon=4)
    set_casadi_blas_threads(2)
    NonlinearMPC(MODEL, P_NOM, dataclasses.replace(settings, blas_threads=None))
    assert casadi_blas_threads() == 2
    NonlinearMPC(MODEL, P_NOM, settings)
    assert casadi_blas_threads() == 1
