"""Learners' own convolution, pooling, normalization and attention layers with one mistake
each (tests/learners/mistakes_cnn/): caught, and named alone by the op's catalogue; the
honest module passes every case it attempts."""
import os

import pytest

from backprop_oracle.oracle import registry
from backprop_oracle.oracle.engine import Check, run_check
from tests.conftest import ROOT
from tests.test_catalogue_recurrent import failing, learner as load

FOLDER = os.path.join(ROOT, "tests", "learners", "mistakes_cnn")


def learner(name):
    return load(name, FOLDER)


MISTAKES = [
    ("conv_kernel_flipped", "conv2d", "dx_kernel_flipped"),
    ("conv_dW_no_transpose", "conv2d", "dW_reshape_without_transpose"),
    ("conv_db_not_summed_over_space", "conv2d", "db_not_summed_over_space"),
    ("conv_padding_kept", "conv2d", "dx_padding_kept"),
    ("maxpool_every_tie", "max_pool2d", "to_every_tie"),
    ("maxpool_every_element", "max_pool2d", "to_every_element"),
    ("batchnorm_running_var_biased", "batch_norm", "running_var_biased"),
    ("batchnorm_eval_batch_stats", "batch_norm_eval", "batch_statistics_in_eval"),
    ("avgpool_not_divided", "avg_pool2d", "not_divided"),
    ("batchnorm_no_mean_terms", "batch_norm", "no_mean_terms"),
    ("batchnorm_momentum_on_old", "batch_norm", "momentum_on_old"),
    ("layernorm_no_xhat_term", "layer_norm", "no_xhat_term"),
    ("attention_no_softmax_jacobian", "scaled_dot_product_attention", "softmax_jacobian_dropped"),
    ("attention_scale_forgotten", "scaled_dot_product_attention", "scale_forgotten_in_backward"),
    ("attention_mask_after_softmax", "scaled_dot_product_attention", "mask_after_softmax"),
]


@pytest.mark.parametrize("module, op, expected", MISTAKES, ids=[f"{m}-{op}" for m, op, _ in MISTAKES])
def test_the_mistake_is_caught_and_named_alone(module, op, expected):
    found = failing(learner(module), op)
    assert found, f"{module} passes every case of {op}"
    wrong = [(case, r["quantity"], names) for case, r, names in found if names != [expected]]
    assert not wrong, f"{module} on {op}: expected only {expected!r} named, got {wrong}"


@pytest.mark.parametrize("op", ["conv2d", "max_pool2d", "avg_pool2d", "batch_norm", "batch_norm_eval",
                                "layer_norm", "scaled_dot_product_attention"])
def test_the_honest_learner_passes(op):
    module = learner("honest")
    spec = registry.get(op)
    attempted = 0
    for case in spec.cases:
        if not spec.applies(case, "torch")[0]:
            continue
        records = [r for r in run_check(Check(op, case.name, "torch", "cpu", "float64"), module)
                   if r["oracle"] == "torch"]
        statuses = {r["status"] for r in records}
        assert statuses <= {"pass", "not_attempted"}, (case.name, records)
        attempted += "pass" in statuses
    assert attempted >= 2
