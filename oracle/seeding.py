"""Case data depends only on (seed, op, case, purpose): never on worker or order."""
import zlib

import numpy as np


def rng_for(seed, *names):
    """A generator seeded by the run's seed and stable hashes of the names.

    zlib.crc32 is used instead of hash(), which Python salts per process.
    """
    return np.random.default_rng([int(seed)] + [zlib.crc32(str(n).encode()) for n in names])
