"""Process flowsheets: material streams between process units, PID loops, utilities.

:mod:`~plant_models.flowsheet.composer` joins blocks by signal wires into one
equation model; :mod:`~plant_models.flowsheet.declare` builds those blocks
from declared units, nodes and loops; :mod:`~plant_models.flowsheet.chemical`
is the chemical reference plant.
"""

from plant_models.flowsheet.composer import Block, ComposedModel, Wire, compose_blocks
from plant_models.flowsheet.declare import FlowsheetNode, FlowsheetUnit, LoopSpec, build_flowsheet

__all__ = [
    "Block",
    "ComposedModel",
    "FlowsheetNode",
    "FlowsheetUnit",
    "LoopSpec",
    "Wire",
    "build_flowsheet",
    "compose_blocks",
]
