"""Weight initializers (Xavier/Glorot, He)."""

__all__ = []
