"""The local lab: the reference app behind real proxies on loopback, probed path by path.

``python -m lab`` (or ``make lab``) starts everything on free loopback ports, prints the table and stops
everything. ``from lab import Lab, run_lab`` does the same from Python (the tests use it).
"""

from lab.procs import LabError
from lab.topology import PATH_NAMES, Lab, LabPath

__all__ = ["PATH_NAMES", "Lab", "LabError", "LabPath"]
