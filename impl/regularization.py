"""Dropout and other regularization layers."""

__all__ = []
