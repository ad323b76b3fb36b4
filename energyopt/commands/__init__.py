"""Sub-commands of the ``energyopt`` CLI, one module each (see :mod:`energyopt.cli`)."""
