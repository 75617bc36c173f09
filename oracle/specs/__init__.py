"""One module per family of ops; each defines SPECS (see oracle.spec and oracle.registry)."""
