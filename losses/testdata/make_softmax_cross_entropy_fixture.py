#!/usr/bin/python3
"""Records the PyTorch reference values for //losses:softmax_cross_entropy_loss_test.

Run from the repository root (writes losses/testdata/softmax_cross_entropy_fixture.pt; deterministic):
    /usr/bin/python3 losses/testdata/make_softmax_cross_entropy_fixture.py

Uses Debian's python3-torch 1.13 (/usr/bin/python3, not a pyenv python). Everything is computed in float64 from
float64 logits. The file is a plain dict of tensors (LibTorch 1.13's pickle_load cannot read collections.OrderedDict).

The C++ loss takes multi-hot targets [N, C] (1 positive, 0 negative, -1 not labelled). A row with exactly one positive
is a sample of that class; a row without a positive is ignored; an unlabelled class of a counted row takes no part in
its softmax. The references here are torch.nn.functional.cross_entropy with class-index targets:
    - cases without unlabelled classes in counted rows: one call on the whole batch, ignored rows given
      ignore_index=-100 (and checked equal to the row-by-row reference below, so the fixture pins down that torch's
      mean with ignore_index and label_smoothing is the mean over the counted rows);
    - every case: row by row, F.cross_entropy on the row's labelled columns only, summed, divided by the counted rows
      for the mean. For the case `partial` this is the only reference (torch has no per-entry mask).

Keys, for each case in CASES:
    {case}_logits [N, C], {case}_targets [N, C] (multi-hot with -1)
    {case}_ls{eps}_{none,mean,sum}: the loss with label_smoothing eps (none: [N], 0 on ignored rows)
    {case}_ls{eps}_mean_grad: d(mean loss)/d(logits) [N, C]
with eps written with 'p' for the decimal point (ls0p1).
"""
import os

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "softmax_cross_entropy_fixture.pt")
REDUCTIONS = ("none", "mean", "sum")
# 0 (plain cross-entropy), a usual value, and 1 (the smoothing term alone).
SMOOTHINGS = (0.0, 0.1, 1.0)


def tag(value):
    return ("%g" % value).replace(".", "p")


def one_hot_targets(classes, num_classes):
    """Multi-hot [N, C] float64 targets from class indices; None gives an all-zero (ignored) row."""
    targets = torch.zeros(len(classes), num_classes, dtype=torch.float64)
    for n, c in enumerate(classes):
        if c is not None:
            targets[n, c] = 1.0
    return targets


def make_cases():
    torch.manual_seed(0)
    cases = {}

    # Every row counted, no unlabelled entry.
    logits = torch.randn(5, 4, dtype=torch.float64) * 3.0
    cases["plain"] = (logits, one_hot_targets([2, 0, 3, 3, 1], 4), True)

    # Ignored rows: row 1 has no positive, row 4 is unlabelled throughout. Extreme logits on the positive and
    # elsewhere (row 0: the positive at -100, row 2: the positive at +100, row 3: +-20 around it), and on an ignored
    # row (must leak nothing).
    logits = torch.randn(6, 7, dtype=torch.float64) * 2.0
    logits[0, 5], logits[0, 1] = -100.0, 100.0
    logits[2, 3] = 100.0
    logits[3, 0], logits[3, 6] = 20.0, -20.0
    logits[1, 2] = 100.0
    targets = one_hot_targets([5, None, 3, 6, None, 0], 7)
    targets[4, :] = -1.0
    cases["ignored"] = (logits, targets, True)

    # Unlabelled classes inside counted rows: row 0 drops two classes, row 2 keeps only its positive (loss 0, counted),
    # row 3 has no positive among its labelled classes (ignored), row 4 drops one class that has a large logit.
    logits = torch.randn(5, 6, dtype=torch.float64) * 2.0
    logits[4, 2] = 50.0
    targets = one_hot_targets([1, 4, 3, None, 0], 6)
    targets[0, 0], targets[0, 5] = -1.0, -1.0
    targets[2, :3], targets[2, 4:] = -1.0, -1.0
    targets[3, 1], targets[3, 2] = -1.0, -1.0
    targets[4, 2] = -1.0
    cases["partial"] = (logits, targets, False)

    # The 1000-class single-label setting, with one ignored row.
    logits = torch.randn(4, 1000, dtype=torch.float64) * 2.0
    cases["wide"] = (logits, one_hot_targets([17, None, 999, 0], 1000), True)
    return cases


def row_by_row(logits, targets, smoothing, reduction):
    """F.cross_entropy of each counted row over its labelled columns; the reduction over counted rows."""
    values = []
    counted = 0
    for n in range(targets.shape[0]):
        labelled = (targets[n] >= 0).nonzero().flatten()
        positive = (targets[n] > 0).nonzero().flatten()
        if positive.numel() == 0:
            values.append(logits[n, 0] * 0.0)
            continue
        assert positive.numel() == 1
        counted += 1
        index = (labelled == positive[0]).nonzero().flatten()
        values.append(F.cross_entropy(logits[n, labelled].unsqueeze(0), index, label_smoothing=smoothing,
                                      reduction="sum"))
    values = torch.stack(values)
    if reduction == "none":
        return values
    if reduction == "sum":
        return values.sum()
    return values.sum() / max(counted, 1)


def whole_batch(logits, targets, smoothing, reduction):
    """One F.cross_entropy call, class indices from the targets' argmax, -100 (ignore_index) for rows without one."""
    has_positive = (targets > 0).any(dim=1)
    index = torch.where(has_positive, targets.argmax(dim=1), torch.full_like(has_positive, -100, dtype=torch.long))
    return F.cross_entropy(logits, index, ignore_index=-100, label_smoothing=smoothing, reduction=reduction)


def mean_grad(fn, logits):
    x = logits.clone().requires_grad_(True)
    fn(x).backward()
    return x.grad.detach()


def main():
    out = {}
    for name, (logits, targets, whole_batch_applies) in make_cases().items():
        out[name + "_logits"] = logits
        out[name + "_targets"] = targets
        for smoothing in SMOOTHINGS:
            key = "%s_ls%s" % (name, tag(smoothing))
            for reduction in REDUCTIONS:
                reference = row_by_row(logits, targets, smoothing, reduction)
                if whole_batch_applies:
                    torch_value = whole_batch(logits, targets, smoothing, reduction)
                    assert torch.allclose(torch_value, reference, rtol=0, atol=1e-12), (key, reduction)
                    reference = torch_value
                out["%s_%s" % (key, reduction)] = reference.detach()
            if whole_batch_applies:
                grad = mean_grad(lambda x: whole_batch(x, targets, smoothing, "mean"), logits)
                assert torch.allclose(grad, mean_grad(lambda x: row_by_row(x, targets, smoothing, "mean"), logits),
                                      rtol=0, atol=1e-12), key
            else:
                grad = mean_grad(lambda x: row_by_row(x, targets, smoothing, "mean"), logits)
            out[key + "_mean_grad"] = grad
    for key, value in out.items():
        assert torch.isfinite(value).all(), key
    torch.save(dict(out), OUT)
    print("wrote %d tensors to %s" % (len(out), OUT))
    print(sorted(out))


if __name__ == "__main__":
    main()
