"""Utilities shared by the subpackages of :mod:`sklearn_fishdip`."""
