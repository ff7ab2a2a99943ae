#!/usr/bin/python3
"""Python reference for //trainer:benchmark: training images/s of torchvision's mobilenet_v2 (80 classes, SGD with
momentum, BCEWithLogitsLoss) on synthetic tensors or through a torch DataLoader over the synthetic COCO JPEGs
(PIL decode, RandomResizedCrop, flip, normalise), or inference images/s (--eval: eval mode, torch.inference_mode).
Prints "images_per_second <value>" and "peak_rss_mib <value>" (this process; DataLoader workers not included).
The benchmark runs it under glibc's malloc, glibc with tuned settings, and tcmalloc (LD_PRELOAD), as it runs ours.

Run by the benchmark binary with the same batch, resolution, precision and thread count; usable alone too:
  /usr/bin/python3 trainer/main/benchmark_reference.py --batch_size 32 --resolution 224 --threads 2 --channels_last
"""
import argparse
import json
import os
import resource
import time

import torch
import torchvision


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--resolution", type=int, default=224)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    parser.add_argument("--channels_last", action="store_true")
    parser.add_argument("--data_root", default="", help="synthetic COCO root: use the data pipeline")
    parser.add_argument("--loader_workers", type=int, default=2)
    parser.add_argument("--eval", action="store_true", help="inference on random tensors instead of training")
    return parser.parse_args()


class CocoMultiLabel(torch.utils.data.Dataset):
    def __init__(self, root, resolution):
        with open(os.path.join(root, "annotations", "instances_train2017.json")) as f:
            coco = json.load(f)
        index = {c["id"]: i for i, c in enumerate(sorted(coco["categories"], key=lambda c: c["id"]))}
        self.num_classes = len(index)
        labels = {image["id"]: set() for image in coco["images"]}
        for annotation in coco["annotations"]:
            labels[annotation["image_id"]].add(index[annotation["category_id"]])
        self.items = [(os.path.join(root, "train2017", image["file_name"]), sorted(labels[image["id"]]))
                      for image in coco["images"]]
        t = torchvision.transforms
        self.transform = t.Compose([t.RandomResizedCrop(resolution), t.RandomHorizontalFlip(), t.ToTensor(),
                                    t.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        from PIL import Image
        path, labels = self.items[i]
        image = self.transform(Image.open(path).convert("RGB"))
        target = torch.zeros(self.num_classes)
        target[labels] = 1.0
        return image, target


class ClampReLU6(torch.nn.Module):
    """ReLU6 as clamp: PyTorch 1.13 has no bfloat16 hardtanh backward on CPU (the C++ trainer does the same)."""

    def forward(self, x):
        return x.clamp(0.0, 6.0)


def replace_relu6(module):
    for name, child in module.named_children():
        if isinstance(child, torch.nn.ReLU6):
            setattr(module, name, ClampReLU6())
        else:
            replace_relu6(child)


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = torchvision.models.mobilenet_v2(num_classes=80)
    if args.precision == "bf16":
        replace_relu6(model)
    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    model.train(not args.eval)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = torch.nn.BCEWithLogitsLoss()

    if args.data_root:
        dataset = CocoMultiLabel(args.data_root, args.resolution)
        loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch_size, shuffle=True, drop_last=True,
                                             num_workers=args.loader_workers, persistent_workers=True)
        def batches():
            while True:
                for batch in loader:
                    yield batch
        source = batches()
    else:
        images = torch.randn(args.batch_size, 3, args.resolution, args.resolution)
        targets = (torch.rand(args.batch_size, 80) < 0.05).float()
        source = iter(lambda: (images, targets), None)

    def step():
        images, targets = next(source)
        images = images.contiguous(memory_format=memory_format)
        if args.eval:
            with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16,
                                                        enabled=args.precision == "bf16"):
                model(images)
            return
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
            logits = model(images)
        loss = criterion(logits.float(), targets)
        loss.backward()
        optimizer.step()

    for _ in range(args.warmup):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    elapsed = time.perf_counter() - start
    print("images_per_second %.3f" % (args.steps * args.batch_size / elapsed))
    print("peak_rss_mib %.1f" % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0), flush=True)


if __name__ == "__main__":
    main()
