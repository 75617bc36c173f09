"""Convolution and pooling layers (conv1d, conv2d, depthwise, transposed, causal; max/avg pooling)."""

__all__ = []
