"""Native API. The multiplication node gives each input its own value times dout.
Diagnosis: the entry mul/inputs_not_swapped (the apple example too)."""


class Mul:
    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, dout):
        return dout * self.x, dout * self.y


class Add:
    def forward(self, x, y):
        return x + y

    def backward(self, dout):
        return dout * 1, dout * 1
