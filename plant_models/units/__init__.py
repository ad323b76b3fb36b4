"""The unit library: one module per unit type; importing it registers every type."""

from plant_models.units import boiler

__all__ = ["boiler"]
