"""Every class of the answer key, unchanged: must pass every check."""
from backprop_oracle.impl import *  # noqa: F401,F403
