"""Tools that measure how far the oracle can be trusted: the seed sweep
(`backprop-oracle sweep`) and mutation testing of the answer key's backward
passes (`backprop-oracle mutate`). See docs/trust.md."""
