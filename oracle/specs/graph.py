"""The computational-graph nodes of seed 000 and its worked examples."""
import numpy as np

from ...impl.graph import Add, Mul
from ..errors import NotAttempted
from ..spec import Case, CaseData, Golden, Mistake, OpSpec
from ._cases import normal


def _layer(module, name):
    cls = getattr(module, name, None)
    if cls is None:
        raise NotAttempted(f"{getattr(module, '__name__', module)} has no class {name}")
    return cls()


def apple(module):
    """100 yen per apple, 2 apples, tax 1.1: 100 x 2 x 1.1 = 220."""
    mul_apple, mul_tax = _layer(module, "Mul"), _layer(module, "Mul")
    price = mul_apple.forward(np.float64(100.0), np.float64(2.0))
    total = mul_tax.forward(price, np.float64(1.1))
    dprice, dtax = mul_tax.backward(np.float64(1.0))
    dapple, dcount = mul_apple.backward(dprice)
    return {"out": total, "grad:apple": dapple, "grad:apple_num": dcount, "grad:tax": dtax}


def apple_orange(module):
    """(100 x 2 + 150 x 3) x 1.1 = 715."""
    mul_apple, mul_orange = _layer(module, "Mul"), _layer(module, "Mul")
    add, mul_tax = _layer(module, "Add"), _layer(module, "Mul")
    f = np.float64
    apples = mul_apple.forward(f(100.0), f(2.0))
    oranges = mul_orange.forward(f(150.0), f(3.0))
    total = mul_tax.forward(add.forward(apples, oranges), f(1.1))
    dsum, dtax = mul_tax.backward(f(1.0))
    dapples, doranges = add.backward(dsum)
    dapple, dapple_num = mul_apple.backward(dapples)
    dorange, dorange_num = mul_orange.backward(doranges)
    return {"out": total, "grad:apple": dapple, "grad:apple_num": dapple_num,
            "grad:orange": dorange, "grad:orange_num": dorange_num, "grad:tax": dtax}


def square_of_sum(module):
    """z = t^2, t = x + y at x = 3, y = 4: z = 49, dz/dx = dz/dy = 2(x + y) = 14."""
    add, square = _layer(module, "Add"), _layer(module, "Mul")
    t = add.forward(np.float64(3.0), np.float64(4.0))
    z = square.forward(t, t)
    dt_left, dt_right = square.backward(np.float64(1.0))
    dx, dy = add.backward(dt_left + dt_right)    # t feeds both inputs of the product
    return {"out": z, "grad:x": dx, "grad:y": dy}


def _pair(*shape):
    return lambda rng: CaseData(inputs={"x": normal(rng, *shape), "y": normal(rng, *shape)})


# ---- the mistakes people make writing the two nodes --------------------------------------

class _AddAsMul(Add):
    def forward(self, x, y):
        self.x, self.y = x, y
        return super().forward(x, y)

    def backward(self, dout):
        return dout * self.y, dout * self.x            # the multiplication node's rule


class _AddLocalOnly(Add):
    def backward(self, dout):
        one = np.ones_like(np.asarray(dout, dtype=float))
        return one, one                                  # dz/dx = 1 without dout


class _AddSecondNegated(Add):
    def backward(self, dout):
        return dout * 1.0, -dout                         # the subtraction node's rule


ADD_MISTAKES = [
    Mistake("multiplied_by_the_other_input", "an addition node passes the upstream gradient "
            "through unchanged (dz/dx = dz/dy = 1): multiplying by the other input is the "
            "multiplication node's rule", _AddAsMul,
            says_ja="加算ノードは上流の勾配をそのまま流す（dz/dx = dz/dy = 1）: もう一方の入力を掛けるのは"
                    "乗算ノードの規則"),
    Mistake("local_derivative_only", "returns the local derivatives 1 without the upstream "
            "gradient: the chain rule multiplies them by dout", _AddLocalOnly,
            says_ja="局所的な微分 1 だけを返している: 連鎖律により上流の勾配 dout を掛ける"),
    Mistake("second_negated", "dy = -dout is the subtraction node's rule: for z = x + y, "
            "dy = dout", _AddSecondNegated,
            says_ja="dy = -dout は減算ノードの規則: z = x + y では dy = dout"),
]


class _MulNotSwapped(Mul):
    def backward(self, dout):
        return dout * self.x, dout * self.y              # each input's own value


class _MulLocalOnly(Mul):
    def backward(self, dout):
        return self.y, self.x                            # without dout


class _MulAsAdd(Mul):
    def backward(self, dout):
        return dout * 1.0, dout * 1.0                    # the addition node's rule


MUL_MISTAKES = [
    Mistake("inputs_not_swapped", "a multiplication node sends each input the upstream "
            "gradient times the OTHER input: dx = dout * y, dy = dout * x", _MulNotSwapped,
            says_ja="乗算ノードは上流の勾配に「もう一方の」入力を掛けて流す: dx = dout * y、dy = dout * x"),
    Mistake("local_derivative_only", "returns the local derivatives y and x without the "
            "upstream gradient: dx = dout * y, dy = dout * x", _MulLocalOnly,
            says_ja="局所的な微分 y と x だけを返している: dx = dout * y、dy = dout * x"),
    Mistake("passed_through", "the upstream gradient is passed through unchanged, as an "
            "addition node would: dx = dout * y, dy = dout * x", _MulAsAdd,
            says_ja="上流の勾配を加算ノードのようにそのまま流している: dx = dout * y、dy = dout * x"),
]


SPECS = [
    OpSpec(
        name="add", family="graph", impl="Add",
        cases=[Case("scalar", _pair()), Case("matrix3x4", _pair(3, 4))],
        torch=lambda a, e, hp: a["x"] + a["y"],
        jax=lambda a, e, hp: a["x"] + a["y"],
        formulas={"forward": r"z = x + y",
                  "backward": r"\frac{\partial L}{\partial x} = \frac{\partial L}{\partial z}, "
                              r"\quad \frac{\partial L}{\partial y} = \frac{\partial L}{\partial z}"},
        convention="No broadcasting: x and y must have the same shape.",
        convention_ja="ブロードキャストはしない: x と y は同じ形でなければならない。",
        golden=[Golden("square_of_sum", square_of_sum, {"out": 49.0, "grad:x": 14.0, "grad:y": 14.0},
                       source="seed 000: z = t^2, t = x + y, dz/dx = 2(x + y)"),
                Golden("apple_orange", apple_orange,
                       {"out": 715.0, "grad:apple": 2.2, "grad:apple_num": 110.0,
                        "grad:orange": 3.3, "grad:orange_num": 165.0, "grad:tax": 650.0},
                       source="seed 000: apples and oranges, (100 x 2 + 150 x 3) x 1.1 = 715")],
        mistakes=ADD_MISTAKES,
    ),
    OpSpec(
        name="mul", family="graph", impl="Mul",
        cases=[Case("scalar", _pair()), Case("matrix3x4", _pair(3, 4))],
        torch=lambda a, e, hp: a["x"] * a["y"],
        jax=lambda a, e, hp: a["x"] * a["y"],
        formulas={"forward": r"z = x y",
                  "backward": r"\frac{\partial L}{\partial x} = \frac{\partial L}{\partial z}\, y, "
                              r"\quad \frac{\partial L}{\partial y} = \frac{\partial L}{\partial z}\, x"},
        convention="Element-wise product; x and y must have the same shape.",
        convention_ja="要素ごとの積。x と y は同じ形でなければならない。",
        golden=[Golden("apple", apple,
                       {"out": 220.0, "grad:apple": 2.2, "grad:apple_num": 110.0, "grad:tax": 200.0},
                       source="seed 000: 100 yen x 2 apples x tax 1.1 = 220")],
        mistakes=MUL_MISTAKES,
    ),
]
