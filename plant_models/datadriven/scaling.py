"""Affine scaling of data columns, stored with every identified model."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plant_models.datadriven import _serial
from plant_models.datadriven._checks import check_not_constant
from plant_models.datadriven.errors import ModelFormatError

__all__ = ["Scaling"]


@dataclass(frozen=True, eq=False)
class Scaling:
    """Column-wise affine map between physical and scaled values.

    ``scaled = (value - offset) / scale`` and ``value = offset + scale * scaled``.

    Attributes
    ----------
    offset : ndarray, shape (n,)
        Offset of each column, in the column's physical unit (the sample mean
        when fitted).
    scale : ndarray, shape (n,)
        Positive scale of each column, in the column's physical unit (the
        sample standard deviation when fitted).
    """

    offset: NDArray[np.float64]
    scale: NDArray[np.float64]

    def __post_init__(self) -> None:
        offset = _serial.frozen(self.offset)
        scale = _serial.frozen(self.scale)
        if offset.ndim != 1 or offset.shape != scale.shape:
            raise ValueError(
                f"offset and scale must be 1-D of equal length, got {offset.shape}, {scale.shape}"
            )
        if not (np.all(np.isfinite(offset)) and np.all(np.isfinite(scale)) and np.all(scale > 0)):
            raise ValueError("scaling offsets must be finite and scales finite and positive")
        object.__setattr__(self, "offset", offset)
        object.__setattr__(self, "scale", scale)

    @classmethod
    def fit(cls, data: NDArray[np.float64], name: str = "data") -> Self:
        """Return the standardising scaling (mean, standard deviation) of the columns.

        Parameters
        ----------
        data : ndarray, shape (n_samples, n)
            Finite data.
        name : str
            Used in the error message.

        Raises
        ------
        IdentificationError
            If a column is constant (its scale would be zero).
        """
        check_not_constant(data, name)
        return cls(data.mean(axis=0), data.std(axis=0))

    @classmethod
    def identity(cls, n: int) -> Self:
        """Return the scaling that leaves ``n`` columns unchanged."""
        return cls(np.zeros(n), np.ones(n))

    @property
    def size(self) -> int:
        """Number of columns."""
        return int(self.offset.size)

    def apply(self, values: ArrayLike) -> NDArray[np.float64]:
        """Return the scaled values (broadcast over the last axis)."""
        return (np.asarray(values, dtype=np.float64) - self.offset) / self.scale

    def invert(self, scaled: ArrayLike) -> NDArray[np.float64]:
        """Return physical values from scaled ones (broadcast over the last axis)."""
        return self.offset + self.scale * np.asarray(scaled, dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"offset": [...], "scale": [...]}`` of plain floats."""
        return {"offset": _serial.to_list(self.offset), "scale": _serial.to_list(self.scale)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], what: str = "scaling") -> Self:
        """Rebuild from :meth:`to_dict` output; raise :class:`ModelFormatError` if malformed."""
        offset = _serial.array(data, "offset", what, 1)
        scale = _serial.array(data, "scale", what, 1)
        try:
            return cls(offset, scale)
        except ValueError as exc:
            raise ModelFormatError(f"{what}: {exc}") from None
