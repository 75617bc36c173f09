"""The answer key: every layer written from scratch in NumPy, forward and backward
side by side. Import the classes from here: `from impl import Affine`.

`impl.__all__` lists every public class; the learner template is made from it.
"""
from ._checks import ShapeError
from .base import Layer
from .graph import *            # noqa: F401,F403  Add, Mul (seed 000)
from .activations import *      # noqa: F401,F403
from .linear import *           # noqa: F401,F403
from .conv import *             # noqa: F401,F403
from .norm import *             # noqa: F401,F403
from .regularization import *   # noqa: F401,F403
from .attention import *        # noqa: F401,F403
from .recurrent import *        # noqa: F401,F403
from .losses import *           # noqa: F401,F403
from .networks import *         # noqa: F401,F403
from .optim import *            # noqa: F401,F403
from .init import *             # noqa: F401,F403
from . import (graph, activations, linear, conv, norm, regularization, attention,
               recurrent, losses, networks, optim, init)

_MODULES = (graph, activations, linear, conv, norm, regularization, attention,
            recurrent, losses, networks, optim, init)
__all__ = ["ShapeError", "Layer"] + [name for m in _MODULES for name in m.__all__]
