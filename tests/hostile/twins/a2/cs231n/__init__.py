"""Assignment 2's package cs231n: an Affine (correct)."""
from .layers import Affine  # noqa: F401
