"""Plant models: unit equations written once, compiled to casadi and numba.

Arrays and small frozen dataclasses in, arrays out; no files, no tag names,
no Qt.  The lowest layer: it imports nothing of energyopt, controllers or gui.
"""
