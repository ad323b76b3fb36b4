"""The Qt desktop face of energyopt: windows, widgets, plots and workers.

A thin layer over :mod:`energyopt`: widgets take Qt-free models from the core
and connect to them; all long work runs off the GUI thread.
"""
