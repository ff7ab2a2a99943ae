#!/usr/bin/python3
"""Records torch.optim.RMSprop's parameters after each step for //trainer/optim:optimizer_test.

Run from the repository root (writes trainer/optim/testdata/rmsprop_fixture.pt; deterministic):
    /usr/bin/python3 trainer/optim/testdata/make_rmsprop_fixture.py

Uses Debian's python3-torch 1.13 (/usr/bin/python3). The model is a Linear(3, 2) in float32; its weight is the
weight-decay group and its bias the no-decay group, as trainer::BuildOptimizer splits them (with
decay_norm_and_bias both are decayed). Every case starts from the same weights and sees the same gradients and
learning rates. The file is a plain dict of tensors (LibTorch 1.13's pickle_load cannot read OrderedDict).

Keys:
    init_weight [2, 3], init_bias [2]: the starting parameters
    grad_weight_{s}, grad_bias_{s}, lr_{s} (a 0-d float64): the gradient and learning rate of step s (0-based)
    {case}_weight_{s}, {case}_bias_{s}: the parameters after step s of that case (CASES below)
"""
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
STEPS = 4
LEARNING_RATES = (0.01, 0.02, 0.005, 0.01)  # changed between steps, as the schedule does
# name: (alpha, eps, momentum, centered, weight_decay, decay_norm_and_bias)
CASES = {
    "recipe": (0.9, 0.0316, 0.9, False, 0.01, False),  # torchvision's MobileNet recipe, the config's defaults
    "centered": (0.8, 1e-3, 0.5, True, 0.05, True),
    "plain": (0.99, 1e-8, 0.0, False, 0.0, False),
}


def main():
    torch.manual_seed(0)
    init_weight = torch.randn(2, 3)
    init_bias = torch.randn(2)
    grads = [(torch.randn(2, 3) * (s + 1), torch.randn(2) * 0.5) for s in range(STEPS)]
    out = {"init_weight": init_weight, "init_bias": init_bias}
    for s, (grad_weight, grad_bias) in enumerate(grads):
        out["grad_weight_%d" % s] = grad_weight
        out["grad_bias_%d" % s] = grad_bias
        out["lr_%d" % s] = torch.tensor(LEARNING_RATES[s], dtype=torch.float64)
    for name, (alpha, eps, momentum, centered, weight_decay, decay_norm_and_bias) in CASES.items():
        weight = init_weight.clone().requires_grad_(True)
        bias = init_bias.clone().requires_grad_(True)
        optimizer = torch.optim.RMSprop(
            [{"params": [weight]}, {"params": [bias], "weight_decay": weight_decay if decay_norm_and_bias else 0.0}],
            lr=LEARNING_RATES[0], alpha=alpha, eps=eps, momentum=momentum, centered=centered,
            weight_decay=weight_decay, foreach=False)
        for s, (grad_weight, grad_bias) in enumerate(grads):
            for group in optimizer.param_groups:
                group["lr"] = LEARNING_RATES[s]
            weight.grad = grad_weight.clone()
            bias.grad = grad_bias.clone()
            optimizer.step()
            out["%s_weight_%d" % (name, s)] = weight.detach().clone()
            out["%s_bias_%d" % (name, s)] = bias.detach().clone()
    for key, value in out.items():
        assert torch.isfinite(value).all(), key
    path = os.path.join(HERE, "rmsprop_fixture.pt")
    torch.save(dict(out), path)
    print("wrote %d tensors to %s" % (len(out), path))


if __name__ == "__main__":
    main()
