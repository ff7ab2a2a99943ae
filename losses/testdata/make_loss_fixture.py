#!/usr/bin/python3
"""Records the PyTorch reference values for //losses:bce_loss_test and //losses:focal_loss_test.

Run from the repository root (writes losses/testdata/loss_fixture.pt; deterministic):
    /usr/bin/python3 losses/testdata/make_loss_fixture.py

Uses Debian's python3-torch 1.13 and python3-torchvision 0.14 (/usr/bin/python3, not a pyenv python). Everything is
computed in float64 from float64 logits. The file is a plain dict of tensors: LibTorch 1.13's pickle_load cannot read
collections.OrderedDict.

Keys:
    logits [6, 5], targets [6, 5], pos_weight [5]
    bce_{none,mean,sum}, bce_pos_weight_{none,mean,sum}: F.binary_cross_entropy_with_logits
    bce_mean_grad, bce_pos_weight_mean_grad: d(mean loss)/d(logits)
    focal_a{alpha}_g{gamma}_{none,mean,sum}, focal_a{alpha}_g{gamma}_mean_grad: torchvision.ops.sigmoid_focal_loss,
        with alpha and gamma written with 'p' for the decimal point and 'm' for a minus sign (a0p25_g2p0)
"""
import os

import torch
import torch.nn.functional as F
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
REDUCTIONS = ("none", "mean", "sum")
# (alpha, gamma): the default, alpha disabled, gamma 0 (alpha-weighted BCE), and a non-integer gamma.
FOCAL_CASES = ((0.25, 2.0), (-1.0, 2.0), (0.5, 0.0), (0.75, 1.5))


def tag(value):
    return ("%g" % value).replace("-", "m").replace(".", "p") + ("p0" if float(value).is_integer() else "")


def main():
    torch.manual_seed(0)
    logits = torch.randn(6, 5, dtype=torch.float64) * 3.0
    # Extreme logits, both signs, on both kinds of target.
    logits[0, 0], logits[0, 1], logits[1, 2], logits[1, 3] = 100.0, -100.0, 20.0, -20.0
    logits[2, 4], logits[3, 4] = 100.0, -100.0
    targets = (torch.rand(6, 5) < 0.4).to(torch.float64)
    targets[0, 0], targets[0, 1], targets[1, 2], targets[1, 3] = 1.0, 1.0, 0.0, 1.0
    targets[2, 4], targets[3, 4] = 0.0, 0.0
    pos_weight = torch.tensor([0.5, 1.0, 2.0, 3.5, 10.0], dtype=torch.float64)

    out = {"logits": logits, "targets": targets, "pos_weight": pos_weight}
    for reduction in REDUCTIONS:
        out["bce_" + reduction] = F.binary_cross_entropy_with_logits(logits, targets, reduction=reduction)
        out["bce_pos_weight_" + reduction] = F.binary_cross_entropy_with_logits(
            logits, targets, pos_weight=pos_weight, reduction=reduction)
        for alpha, gamma in FOCAL_CASES:
            key = "focal_a%s_g%s_%s" % (tag(alpha), tag(gamma), reduction)
            out[key] = torchvision.ops.sigmoid_focal_loss(logits, targets, alpha=alpha, gamma=gamma,
                                                          reduction=reduction)

    def mean_grad(fn):
        x = logits.clone().requires_grad_(True)
        fn(x).backward()
        return x.grad.detach()

    out["bce_mean_grad"] = mean_grad(lambda x: F.binary_cross_entropy_with_logits(x, targets))
    out["bce_pos_weight_mean_grad"] = mean_grad(
        lambda x: F.binary_cross_entropy_with_logits(x, targets, pos_weight=pos_weight))
    for alpha, gamma in FOCAL_CASES:
        key = "focal_a%s_g%s_mean_grad" % (tag(alpha), tag(gamma))
        out[key] = mean_grad(lambda x: torchvision.ops.sigmoid_focal_loss(x, targets, alpha=alpha, gamma=gamma,
                                                                          reduction="mean"))
    for key, value in out.items():
        assert torch.isfinite(value).all(), key
    torch.save(dict(out), os.path.join(HERE, "loss_fixture.pt"))
    print("wrote %d tensors to %s" % (len(out), os.path.join(HERE, "loss_fixture.pt")))
    print(sorted(out))


if __name__ == "__main__":
    main()
