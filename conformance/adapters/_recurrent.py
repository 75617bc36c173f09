"""Stacked and bidirectional sequences from a learner's one-layer, one-direction layers.

torch.nn.RNN / LSTM / GRU with num_layers = L and bidirectional = True is L layers, each
running one direction forward in time and one backward in time over the layer's input and
concatenating the two outputs along the features; the next layer reads that concatenation.
The adapter builds exactly that from the learner's TimeRNN / TimeLSTM / TimeGRU (or its
TimeBiLSTM for a bidirectional LSTM layer), so the learner's arithmetic is all that runs:

    forward:  out_l = [dir_f(out_{l-1}), reverse(dir_b(reverse(out_{l-1})))]
    backward: d out_{l-1} = d_f + reverse(d_b(reverse(...)))   (the two directions add)

h_n and c_n are (L * dirs, N, H) in torch's order (l0, l0_reverse, l1, ...), and so are
the gradients of h0 and c0.
"""
import numpy as np


def suffix(layer, reverse):
    return f"_l{layer}" + ("_reverse" if reverse else "")


def strip(params, sfx):
    return {k[:-len(sfx)]: v for k, v in params.items() if k.endswith(sfx)
            and not k[:-len(sfx)].endswith("_reverse") and "_l" not in k[:-len(sfx)]}


class Stacked:
    """The answer key's sequence API over learner direction runners.

    `direction(params) -> runner` with run(x, h0, c0) -> (hs, h_T, c_T) and
    back(dhs) -> (dx, dh0, dc0, grads) (grads under torch's names without the suffix);
    `pair(params_f, params_b) -> runner` (optional) with run(x, h0s, c0s) -> (out, h_T, c_T),
    each state stacked over the two directions, and back(dout) -> (dx, dh0s, dc0s, grads_f, grads_b).
    """
    has_cell = False
    style = ""

    def __init__(self, num_layers=1, bidirectional=False, **params):
        self.num_layers, self.dirs = int(num_layers), 2 if bidirectional else 1
        self.params, self.grads = params, {}

    # ---- to be given by the style
    def direction(self, params):
        raise NotImplementedError

    pair = None

    def forward(self, x, h0, *rest, c0=None):
        """forward(x, h0, lengths=None), or forward(x, h0, c0, lengths=None) with a cell
        (c0 by keyword: a case holding it constant, Case.constants)."""
        rest = rest if c0 is None else (c0,) + rest
        c0, lengths = (rest + (None, None))[:2] if self.has_cell else (None, (rest + (None,))[0])
        if lengths is not None:
            raise NotImplementedError(f"the {self.style} style's sequence layers have no "
                                      f"variable lengths")
        self.units, h_n, c_n = [], [], []
        for layer in range(self.num_layers):
            states = slice(layer * self.dirs, (layer + 1) * self.dirs)
            unit = self._unit(layer)
            x, h_t, c_t = unit.run(x, h0[states], None if c0 is None else c0[states])
            self.units.append(unit)
            h_n.append(h_t)
            c_n.append(c_t)
        self.h_n = np.concatenate(h_n)
        # None where there is no c0, or the style's runner returns no c_T (CS231n's)
        self.c_n = None if c0 is None or any(c is None for c in c_n) else np.concatenate(c_n)
        return x

    def backward(self, dout, dh_n=None, dc_n=None):
        if dh_n is not None or dc_n is not None:
            raise NotImplementedError(f"the {self.style} style's sequence layers take no "
                                      f"gradient of their last state")
        dh0, dc0 = [], []
        for layer in reversed(range(self.num_layers)):
            dout, dh, dc, grads = self.units[layer].back(dout)
            dh0.insert(0, dh)
            dc0.insert(0, dc)
            self.grads.update(grads)
        dh0 = np.concatenate(dh0)
        if self.has_cell:   # dc0 None where the style returns no d c0 (a constant c0 only)
            return dout, dh0, None if any(d is None for d in dc0) else np.concatenate(dc0)
        return dout, dh0

    def _unit(self, layer):
        sfx = [suffix(layer, False), suffix(layer, True)]
        if self.dirs == 2 and self.pair is not None:
            return _Named(self.pair(strip(self.params, sfx[0]), _reverse_params(self.params, sfx[1])),
                          sfx, pair=True)
        runners = [self.direction(strip(self.params, sfx[0]))]
        if self.dirs == 2:
            runners.append(self.direction(_reverse_params(self.params, sfx[1])))
        return _Bidirectional(runners, sfx)


def _reverse_params(params, sfx):
    return {k[:-len(sfx)]: v for k, v in params.items() if k.endswith(sfx)}


def _add_suffix(grads, sfx):
    return {k + sfx: v for k, v in grads.items()}


def _stack(states):
    return None if states[0] is None else np.stack([np.asarray(s) for s in states])


class _Bidirectional:
    """One layer from one or two direction runners."""

    def __init__(self, runners, sfx):
        self.runners, self.sfx = runners, sfx

    def run(self, x, h0s, c0s):
        outs, hs, cs = [], [], []
        for d, runner in enumerate(self.runners):
            xin = x if d == 0 else x[:, ::-1]
            out, h_t, c_t = runner.run(np.ascontiguousarray(xin), h0s[d],
                                       None if c0s is None else c0s[d])
            outs.append(np.asarray(out) if d == 0 else np.asarray(out)[:, ::-1])
            hs.append(h_t)
            cs.append(c_t)
        self.H = outs[0].shape[-1]
        return np.concatenate(outs, axis=-1), _stack(hs), _stack(cs)

    def back(self, dout):
        dx, dh0, dc0, grads = 0, [], [], {}
        for d, runner in enumerate(self.runners):
            part = dout[..., d * self.H:(d + 1) * self.H]
            part = part if d == 0 else part[:, ::-1]
            dxd, dh, dc, g = runner.back(np.ascontiguousarray(part))
            dx = dx + (np.asarray(dxd) if d == 0 else np.asarray(dxd)[:, ::-1])
            dh0.append(dh)
            dc0.append(dc)
            grads.update(_add_suffix(g, self.sfx[d]))
        return dx, _stack(dh0), _stack(dc0), grads


class _Named:
    """A learner pair runner (TimeBiLSTM) with its gradients named per direction."""

    def __init__(self, runner, sfx, pair=True):
        self.runner, self.sfx = runner, sfx

    def run(self, x, h0s, c0s):
        return self.runner.run(x, h0s, c0s)

    def back(self, dout):
        dx, dh0, dc0, grads_f, grads_b = self.runner.back(dout)
        return dx, dh0, dc0, {**_add_suffix(grads_f, self.sfx[0]), **_add_suffix(grads_b, self.sfx[1])}


def recording_first_cell(time_layer):
    """Wrap the first cell's backward of a learner's Time layer (after its forward) so that
    d c0, which the book's TimeLSTM does not keep, can be read from what that cell returned."""
    first, seen = time_layer.layers[0], {}
    original = first.backward

    def recording(*args):
        seen["out"] = original(*args)
        return seen["out"]
    first.backward = recording
    return seen
