# coding: utf-8
# A test copy of 『ゼロから作るDeep Learning ❷』 common/np.py: numpy, or cupy when GPU is set.
from common.config import GPU

if GPU:
    import cupy as np
    np.cuda.set_allocator(np.cuda.MemoryPool().malloc)
    np.add.at = np.scatter_add
    print('GPU Mode (cupy)')
else:
    import numpy as np
