"""What every witness of one check is given: the same arrays, the same upstream gradient."""
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from .spec import CaseData

DTYPES = {"float64": np.float64, "float32": np.float32}


@dataclass
class Context:
    data: CaseData        # arrays already cast to `dtype` (integer arrays untouched)
    hp: dict              # hyperparameters, given to the constructor
    dout: Optional[np.ndarray]   # upstream gradient of the output, in `dtype`
    dtype: str            # "float64" or "float32"
    device: str = "cpu"   # "cpu" or "cuda"
    module: Any = None    # the implementation under test (impl, or a learner's module)
    seed: int = 0
    case: str = ""
    party: Any = None     # the oracle.party.Party answering for `module` (None: call module here)
    # upstream gradients of extra outputs ({"h_n": array, ...}, the case's `upstream`
    # order): backward gets them after dout; empty for most cases
    dout_extra: dict = field(default_factory=dict)


def cast(value, dtype):
    """Floating arrays become `dtype`; integer and boolean arrays keep their type."""
    arr = np.asarray(value)
    if np.issubdtype(arr.dtype, np.floating):
        return arr.astype(DTYPES[dtype])
    return arr


def cast_data(data, dtype):
    return CaseData(inputs={k: cast(v, dtype) for k, v in data.inputs.items()},
                    params={k: cast(v, dtype) for k, v in data.params.items()},
                    extra={k: cast(v, dtype) for k, v in data.extra.items()})
