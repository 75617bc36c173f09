"""The conformance suite: `pytest conformance -n auto` checks an implementation
against every op spec and writes the agreement report."""
