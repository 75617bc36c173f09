"""The witnesses (torch, jax, finite differences, golden values), the op specs and
the comparison policy."""
