"""Controllers: economic MPC, full-process NMPC, estimation, baselines and the advisor.

Arrays and small frozen dataclasses in, arrays and result objects out; no
files, no tag names, no Qt.  Depends only on ``plant_models``.
"""
