"""Normalization layers (batch, layer, instance, group normalization)."""

__all__ = []
