"""Conv2d: col2im keeps the padding. Expected: dx_padding_kept."""
import numpy as np

from tests.learners.mistakes_cnn.honest import *  # noqa: F401,F403
from tests.learners.mistakes_cnn import honest


class Conv2d(honest.Conv2d):
    def col2im(self, dcol):
        N, C, H, Wd = self.x_shape
        FN, _, FH, FW = self.params["W"].shape
        OH, OW = self.out_hw
        S, P = self.stride, self.pad
        dcol = dcol.reshape(N, OH, OW, C, FH, FW).transpose(0, 3, 4, 5, 1, 2)
        img = np.zeros((N, C, H + 2 * P, Wd + 2 * P))
        for y in range(FH):
            for xx in range(FW):
                img[:, :, y:y + S * OH:S, xx:xx + S * OW:S] += dcol[:, :, y, xx]
        return img                                         # the mistake: [:, :, P:H + P, P:Wd + P]
