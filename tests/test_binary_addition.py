"""The seed's binary-addition exercise learns with the answer key's layers (a shortened run)."""
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples"))
import binary_addition as example  # noqa: E402


def test_bits_round_trip_least_significant_first():
    assert example.to_bits([6])[0].tolist() == [0, 1, 1, 0, 0, 0, 0, 0]
    assert example.from_bits(example.to_bits([11, 93, 255])).tolist() == [11, 93, 255]


def test_clip_by_global_norm_scales_all_gradients_together():
    grads = [np.array([3.0, 0.0]), np.array([[4.0]])]
    assert example.clip_by_global_norm(grads, 1.0) == 5.0
    assert np.allclose(grads[0], [0.6, 0.0]) and np.allclose(grads[1], [[0.8]])
    small = [np.array([0.3, 0.4])]
    example.clip_by_global_norm(small, 1.0)
    assert np.allclose(small[0], [0.3, 0.4])


def test_an_untrained_network_cannot_add():
    model, seen = example.train(iterations=0, verbose=False)
    accuracy, _ = example.accuracy_on_unseen(model, seen)
    assert accuracy < 0.05


def test_it_learns_to_add_pairs_it_never_saw():
    model, seen = example.train(iterations=6000, seed=0, verbose=False)
    accuracy, count = example.accuracy_on_unseen(model, seen)
    assert count > 10_000
    assert accuracy >= 0.99, f"{100 * accuracy:.1f}% of {count} unseen pairs right after 6000 iterations"


def test_it_prints_its_progress_like_the_seed():
    script = os.path.join(os.path.dirname(example.__file__), "binary_addition.py")
    out = subprocess.run([sys.executable, script, "--iterations", "101"], capture_output=True,
                         text=True, timeout=60).stdout
    lines = out.splitlines()
    assert lines[0] == "iters:0" and lines[1].startswith("Loss:")
    assert lines[2].startswith("Pred:[") and lines[3].startswith("True:[")
    a, plus, b, equals, total = lines[4].split()
    assert plus == "+" and equals == "=" and 0 <= int(total) < 256
    assert "iters:100" in lines and "pairs it did not train on" in out
