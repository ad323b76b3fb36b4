"""Errors raised when a data-driven model cannot be identified or rebuilt."""

from __future__ import annotations

__all__ = ["ConversionError", "IdentificationError", "ModelFormatError", "SpecError"]


class IdentificationError(ValueError):
    """The data cannot identify the requested model.

    The message names the problem and, where it applies, the offending
    column or order: too few samples for the orders, non-finite values,
    a constant or otherwise not persistently exciting input, an order
    larger than the data supports.
    """


class ModelFormatError(ValueError):
    """A stored model dictionary is malformed (missing key, wrong shape, bad kind)."""


class SpecError(ValueError):
    """A data-driven unit declaration is invalid (unknown model type, bad order, ...).

    The message names the offending field, as the project loader reports it.
    """


class ConversionError(ValueError):
    """An identified discrete-time model has no continuous-time equivalent.

    Raised when the zero-order-hold inverse ``A_c = logm(A_d) / dt`` has no
    real solution: a pole of ``A_d`` on the negative real axis (an
    oscillation at the Nyquist frequency) or at (or very near) zero (a pure
    delay, or a mode far faster than the sample time).  The message names
    the pole.
    """
