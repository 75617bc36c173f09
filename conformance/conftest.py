"""The suite's hooks live in the plugin (backprop_oracle.conformance.plugin), which
pytest loads through the package's `pytest11` entry point; it wakes up when the
suite in this folder is collected."""
