"""Optimizer steps and gradient clipping."""

__all__ = []
