"""Tools that measure how far the oracle can be trusted: the seed sweep
(`python -m tools.sweep`) and mutation testing of the answer key's backward
passes (`python -m tools.mutate`). See docs/trust.md."""
