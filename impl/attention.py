"""Attention layers (scaled dot-product, multi-head)."""

__all__ = []
