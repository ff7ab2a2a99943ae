#!/usr/bin/python3
"""Records the torchvision parity fixture for //mobilenet:torchvision_parity_test, and checks the other direction.

Record (writes the two .pt files next to this script; deterministic):
    /usr/bin/python3 mobilenet/testdata/make_torchvision_fixture.py record

Check that a state dict written by the C++ side loads into torchvision with strict=True and reproduces the C++
output (used by //mobilenet:torchvision_export_test):
    /usr/bin/python3 mobilenet/testdata/make_torchvision_fixture.py check STATE_DICT.pt IO.pt

Uses Debian's python3-torch 1.13 and python3-torchvision 0.14 (/usr/bin/python3, not a pyenv python).
"""
import collections
import os
import sys

import torch
import torchvision

WIDTH_MULT = 0.35
NUM_CLASSES = 10
INPUT_SHAPE = (2, 3, 64, 64)
TOLERANCE = 1e-4
HERE = os.path.dirname(os.path.abspath(__file__))


def make_model():
    return torchvision.models.mobilenet_v2(width_mult=WIDTH_MULT, num_classes=NUM_CLASSES)


def record():
    torch.manual_seed(0)
    model = make_model()
    # Non-trivial BatchNorm parameters and running statistics, so the test exercises every tensor.
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 2.0)
                module.num_batches_tracked.fill_(7)
            elif isinstance(module, torch.nn.Linear):
                module.weight.normal_(0, 0.1)
                module.bias.uniform_(-0.1, 0.1)
    model.eval()

    leaf_names, leaf_shapes, leaf_params = [], [], []

    def hook(name):
        def record_output(module, inputs, output):
            leaf_names.append(name)
            leaf_shapes.append(list(output.shape))
            leaf_params.append(sum(p.numel() for p in module.parameters(recurse=False)))
        return record_output

    for name, module in model.named_modules():
        if len(list(module.children())) == 0:
            module.register_forward_hook(hook(name))
    images = torch.randn(*INPUT_SHAPE)
    with torch.no_grad():
        logits = model(images)

    # Saved exactly as users do: model.state_dict() is an OrderedDict with _metadata, which LibTorch 1.13's own
    # unpickler cannot read; the C++ reader must handle it.
    torch.save(model.state_dict(), os.path.join(HERE, "torchvision_v2_w035_c10_state_dict.pt"))
    torch.save(
        {
            "input": images,
            "output": logits,
            "leaf_names": leaf_names,
            "leaf_shapes": leaf_shapes,
            "leaf_params": leaf_params,
        },
        os.path.join(HERE, "torchvision_v2_w035_c10_io.pt"),
    )
    # A nested checkpoint whose inner state dict is an OrderedDict, next to other entries.
    torch.save({"epoch": 3, "state_dict": collections.OrderedDict(weight=torch.ones(2), bias=torch.zeros(3))},
               os.path.join(HERE, "ordered_dict_checkpoint.pt"))
    print(f"recorded {len(leaf_names)} leaf layers, {sum(p.numel() for p in model.parameters())} parameters")


def check(state_dict_path, io_path):
    model = make_model()
    state = torch.load(state_dict_path)
    model.load_state_dict(state, strict=True)
    model.eval()
    io = torch.load(io_path)
    with torch.no_grad():
        logits = model(io["input"])
    error = (logits - io["output"]).abs().max().item()
    print(f"torchvision loaded {len(state)} tensors with strict=True; max |torchvision - C++| = {error:.3g}")
    if error > TOLERANCE:
        sys.exit(f"FAIL: outputs differ by {error} > {TOLERANCE}")


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "record":
        record()
    elif len(sys.argv) == 4 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
