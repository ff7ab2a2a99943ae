#!/usr/bin/python3
"""Python equivalent of //trainer:predict for trainer/main/predict_benchmark.sh: torchvision's mobilenet_v2 with a
run's model_best.pt (its output stride applied by DeepLab's rule, as mobilenet/README.md describes), PIL decoding and
torchvision's eval transform (Resize(S / center_crop_fraction), CenterCrop(S), ToTensor, Normalize) through a
DataLoader, sigmoid, and one JSON line per image with labels over the run's thresholds and the top k, like ours.
Unreadable files are skipped. Prints "images_per_second <value>" (from the first batch requested to the last line
written, model loading excluded) on stderr.

  /usr/bin/python3 trainer/main/predict_reference.py --run_dir=runs/baseline_bce-... --out=/tmp/py.jsonl IMAGE...
"""
import argparse
import json
import os
import re
import time

import torch
import torchvision
from PIL import Image


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run_dir", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--loader_workers", type=int, default=1)
    parser.add_argument("--top_k", type=int, default=5)
    parser.add_argument("images", nargs="+")
    return parser.parse_args()


def config_value(text, field, default):
    match = re.search(r"\b" + field + r":\s*([-\w.]+)", text)
    return type(default)(match.group(1)) if match else default


def load_model(run_dir, num_classes, config):
    if "mobilenet_v1" in config:
        raise SystemExit("the reference covers MobileNetV2 runs only (torchvision has no V1)")
    model = torchvision.models.mobilenet_v2(num_classes=num_classes, width_mult=config_value(config, "width_mult", 1.0))
    model.load_state_dict(torch.load(os.path.join(run_dir, "model_best.pt"), map_location="cpu"))
    # Output stride 16 / 8 (DeepLab): the block where the stride would pass it keeps dilation 1 with stride 1, later
    # depthwise convolutions dilate by the product of the strides removed.
    output_stride = config_value(config, "output_stride", 32)
    stride, dilation = 2, 1  # the stem's stride
    for block in model.features[1:18]:
        depthwise = block.conv[0][0] if len(block.conv) == 3 else block.conv[1][0]
        if stride >= output_stride and depthwise.stride[0] > 1:
            depthwise.stride = (1, 1)
            next_dilation = dilation * 2
            depthwise.dilation, depthwise.padding = (dilation, dilation), (dilation, dilation)
            dilation = next_dilation
        else:
            if stride >= output_stride:
                depthwise.dilation, depthwise.padding = (dilation, dilation), (dilation, dilation)
            stride *= depthwise.stride[0]
    return model.eval()


class Images(torch.utils.data.Dataset):
    def __init__(self, paths, transform):
        self.paths, self.transform = paths, transform

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        try:
            return i, self.transform(Image.open(self.paths[i]).convert("RGB"))
        except Exception:  # reported as skipped, like ours
            return i, None


def collate(items):
    good = [(i, x) for i, x in items if x is not None]
    return [i for i, _ in good], (torch.stack([x for _, x in good]) if good else None), [i for i, x in items if x is None]


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    config = open(os.path.join(args.run_dir, "config.pbtxt")).read()
    thresholds, names = [], []
    for line in open(os.path.join(args.run_dir, "thresholds.txt")):
        if line.startswith("class "):
            _, _, value, name = line.rstrip("\n").split(" ", 3)
            thresholds.append(float(value))
            names.append(name)
    model = load_model(args.run_dir, len(names), config).to(memory_format=torch.channels_last)
    size = config_value(config, "resolution", 224)
    fraction = config_value(config, "center_crop_fraction", 0.875)
    t = torchvision.transforms
    transform = t.Compose([t.Resize(int(size / fraction)), t.CenterCrop(size), t.ToTensor(),
                           t.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    paths = sorted(args.images)
    loader = torch.utils.data.DataLoader(Images(paths, transform), batch_size=args.batch_size,
                                         num_workers=args.loader_workers, collate_fn=collate)
    threshold = torch.tensor(thresholds)
    start = time.perf_counter()
    with open(args.out, "w") as out, torch.inference_mode():
        for indices, batch, skipped in loader:
            lines = {i: json.dumps({"file": paths[i], "error": "cannot decode"}) for i in skipped}
            if batch is not None:
                probabilities = torch.sigmoid(model(batch.contiguous(memory_format=torch.channels_last)))
                for row, i in enumerate(indices):
                    p = probabilities[row]
                    order = torch.argsort(p, descending=True).tolist()
                    labels = [c for c in order if p[c] >= threshold[c]]
                    item = lambda c: {"name": names[c], "score": round(float(p[c]), 6)}
                    lines[i] = json.dumps({"file": paths[i], "labels": [item(c) for c in labels],
                                           "top": [item(c) for c in order[:args.top_k]]})
            for i in sorted(lines):
                out.write(lines[i] + "\n")
    seconds = time.perf_counter() - start
    print(f"images_per_second {len(paths) / seconds:.2f}", file=__import__("sys").stderr)


if __name__ == "__main__":
    main()
