"""energyopt: multi-medium energy optimisation and process control for plants.

The application layer: historian data, project files, workflows (fit, replay,
recommend, tune), KPIs, reports and the command-line interface.  It builds on
``controllers`` (MPC, estimation, the advisor) and ``plant_models`` (equations,
simulation, calibration) and never imports Qt.
"""

from energyopt.errors import EnergyoptError

__all__ = ["EnergyoptError", "__version__"]

__version__ = "0.1.0"
