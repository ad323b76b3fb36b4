"""Validation of the target-layer settings: each bad value raises TargetError with its name."""

from __future__ import annotations

import math

import pytest

from controllers.errors import TargetError
from controllers.targets import TargetCv, TargetMv, TargetSettings


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: TargetMv("u", low=2.0, high=1.0), "MV u: low 2.0 above high 1.0"),
        (lambda: TargetMv("u", max_move=0.0), "MV u: max_move must be positive"),
        (lambda: TargetMv("u", scale=-1.0), "MV u: scale must be a positive"),
        (lambda: TargetMv("u", price=math.nan), "MV u: price must be a finite"),
        (lambda: TargetMv("u", ideal=math.inf), "MV u: ideal must be a finite"),
        (lambda: TargetCv("y", kind="z"), "CV y: kind must be 'y' or 'x'"),
        (lambda: TargetCv("y", priority=0), "CV y: priority must be >= 1"),
        (lambda: TargetCv("y", priority=True), "CV y: priority must be an integer"),
        (lambda: TargetCv("y", low=1.0, high=0.0), "CV y: low 1.0 above high 0.0"),
        (lambda: TargetSettings(mvs=(), cvs=()), "at least one MV"),
        (lambda: TargetSettings(mvs=(TargetMv("u"),), cvs=(), method="milp"), "method must be"),
        (lambda: TargetSettings(mvs=(TargetMv("u"), TargetMv("u")), cvs=()), "duplicate MV"),
        (
            lambda: TargetSettings(mvs=(TargetMv("u"),), cvs=(), fixed_inputs={"u": 1.0}),
            "fixed input u is also an MV",
        ),
        (lambda: TargetSettings(mvs=(TargetMv("u"),), cvs=(), max_iter=0), "max_iter"),
    ],
)
def test_bad_settings_raise(make, fragment):
    with pytest.raises(TargetError, match=fragment):
        make()


def test_ranks_only_count_limited_cvs():
    st = TargetSettings(
        mvs=(TargetMv("u"),),
        cvs=(
            TargetCv("a", high=1.0, priority=3),
            TargetCv("b", priority=1),
            TargetCv("c", low=0.0),
        ),
    )
    # b has no limit (its priority does not count); a and c have ranks 3 and 1.
    assert st.ranks == (1, 3)
