"""Recurrent layers and backpropagation through time (RNN, LSTM, GRU)."""

__all__ = []
