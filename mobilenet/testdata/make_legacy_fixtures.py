#!/usr/bin/python3
"""Writes the fixtures of //mobilenet:legacy_torch_save_test into mobilenet/testdata/legacy/.

    /usr/bin/python3 mobilenet/testdata/make_legacy_fixtures.py

Uses Debian's python3-torch 1.13 (/usr/bin/python3). Writes, each a few KB:
  legacy_state_dict.pt           STATE (below) with torch.save(..., _use_new_zipfile_serialization=False): the
                                 pre-1.6 format of torchvision's original weights (mobilenet_v2-b0353104.pth)
  zip_state_dict.pt              the same STATE in the zip format (PyTorch >= 1.6)
  legacy_one_tensor.pt           {"w": ...}, legacy: a one-entry dict and a one-key storage list, which Python pickles
                                 with SETITEM and APPEND (opcodes LibTorch 1.13's unpickler lacks)
  legacy_state_dict-HASH.pth     legacy_state_dict.pt's bytes under a torch.hub-style name, HASH being the first 8
                                 hex digits of their SHA-256 (as in mobilenet_v2-b0353104.pth)
and a copy of legacy_state_dict.pt as a seed of //mobilenet:state_dict_fuzzer
(testdata/fuzz/state_dict_fuzzer/legacy_state_dict.pt).

The legacy format names storages by their memory address, so every run writes different bytes (and a different
HASH); the values are fixed. legacy_torch_save_test.cc recomputes every value with the same formulas:
  0.weight [3, 2, 1, 1]      arange(6) / 8 - 0.25           (float32)
  0.bias [3]                 arange(3) * -1.5
  1.weight [3]               1 + arange(3) / 4
  1.bias [3]                 arange(3) / -4
  1.running_mean [3]         arange(3) * 0.125
  1.running_var [3]          2 + arange(3)
  1.num_batches_tracked []   7                              (int64)
  extra.double [4]           arange(4) / 3                  (float64)
  shared.block [2, 3]        BASE[2:8].view(2, 3)            three views of one storage BASE = arange(20) * 0.5 - 3
  shared.every_third [4]     BASE[9:19:3]                    (offset 9, stride 3)
  shared.transposed [3, 2]   BASE[0:6].view(2, 3).t()        (offset 0, strides [1, 3])
"""
import hashlib
import glob
import os
import shutil

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "legacy")
SEEDS = os.path.join(HERE, "fuzz", "state_dict_fuzzer")


def make_state():
    # model.state_dict() of a Conv2d + BatchNorm2d: an OrderedDict with a _metadata attribute, as torchvision saves.
    model = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 1), torch.nn.BatchNorm2d(3))
    with torch.no_grad():
        model[0].weight.copy_((torch.arange(6.0) / 8 - 0.25).view(3, 2, 1, 1))
        model[0].bias.copy_(torch.arange(3.0) * -1.5)
        model[1].weight.copy_(1 + torch.arange(3.0) / 4)
        model[1].bias.copy_(torch.arange(3.0) / -4)
        model[1].running_mean.copy_(torch.arange(3.0) * 0.125)
        model[1].running_var.copy_(2 + torch.arange(3.0))
        model[1].num_batches_tracked.fill_(7)
    state = model.state_dict()
    assert type(state).__name__ == "OrderedDict" and hasattr(state, "_metadata")
    state["extra.double"] = torch.arange(4, dtype=torch.float64) / 3
    base = torch.arange(20.0) * 0.5 - 3
    state["shared.block"] = base[2:8].view(2, 3)
    state["shared.every_third"] = base[9:19:3]
    state["shared.transposed"] = base[0:6].view(2, 3).t()
    return state


def save(value, name, legacy):
    path = os.path.join(OUT, name)
    torch.save(value, path, _use_new_zipfile_serialization=not legacy)
    return path


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in glob.glob(os.path.join(OUT, "*")):
        os.remove(old)
    state = make_state()
    legacy = save(state, "legacy_state_dict.pt", legacy=True)
    save(state, "zip_state_dict.pt", legacy=False)
    save({"w": torch.arange(5.0) - 2}, "legacy_one_tensor.pt", legacy=True)
    with open(legacy, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    shutil.copyfile(legacy, os.path.join(OUT, "legacy_state_dict-%s.pth" % digest[:8]))
    shutil.copyfile(legacy, os.path.join(SEEDS, "legacy_state_dict.pt"))

    # What torch.load reads back is what was saved (views included).
    for name in ("legacy_state_dict.pt", "zip_state_dict.pt"):
        loaded = torch.load(os.path.join(OUT, name))
        assert list(loaded) == list(state), name
        for key, tensor in state.items():
            assert loaded[key].dtype == tensor.dtype and torch.equal(loaded[key], tensor), (name, key)
    for name in sorted(os.listdir(OUT)):
        print("%6d bytes  %s" % (os.path.getsize(os.path.join(OUT, name)), name))


if __name__ == "__main__":
    main()
