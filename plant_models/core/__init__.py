"""Model core: the equations-once convention, its casadi/numba compilers and integrators.

Importing this package is cheap: casadi and numba are imported only when a
model is first compiled.
"""
