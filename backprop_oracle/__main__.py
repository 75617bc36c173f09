"""`python -m backprop_oracle ...` is the `backprop-oracle` command (where the console
script is not on PATH)."""
import sys

from .cli import main

sys.exit(main())
