#!/usr/bin/python3
"""The Python side of the "is it the trainer?" check (experiments/NOTES.md, "Toward a default that learns").

Trains torchvision's mobilenet_v2 on the first N training images of a COCO-layout synthetic dataset, with
AdamW + OneCycle and horizontal flips, and prints val mAP (ASL / ML-GCN style: mean over classes with a positive)
after every epoch. Everything is decoded into memory first: meant for the small 64 px sets of the experiments.

  /usr/bin/python3 experiments/python_reference_loop.py ~/.cache/coco-multilabel/synthetic-<hash> 6000 2 0.005

An optional fifth argument picks the model: `mobilenet_v2` (the default: torchvision's, width 0.5) or `plain_cnn`, a
seven-layer VGG-style network (3x3 convolutions, BatchNorm, ReLU, three stride-2 steps, full resolution at the first
layer) with global max pooling: the "is the task learnable at all?" check.
"""
import json
import sys

import torch
import torchvision
from torchvision.io import decode_jpeg, read_file

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def load_split(root, split, limit):
    """Images (uint8, N x 3 x H x W) and multi-hot targets of the first `limit` images by id."""
    with open(f"{root}/annotations/instances_{split}.json") as f:
        data = json.load(f)
    class_of = {c: i for i, c in enumerate(sorted(c["id"] for c in data["categories"]))}
    images = sorted(data["images"], key=lambda image: image["id"])[:limit]
    targets = {image["id"]: torch.zeros(len(class_of)) for image in images}
    for annotation in data["annotations"]:
        if annotation["image_id"] in targets:
            targets[annotation["image_id"]][class_of[annotation["category_id"]]] = 1
    pixels = torch.stack([decode_jpeg(read_file(f"{root}/{split}/{image['file_name']}")) for image in images])
    return pixels, torch.stack([targets[image["id"]] for image in images])


def normalise(pixels):
    return ((pixels.float() / 255 - MEAN) / STD).contiguous(memory_format=torch.channels_last)


def average_precision(scores, labels):
    order = torch.argsort(scores, descending=True)
    hits = labels[order]
    precision = torch.cumsum(hits, 0) / torch.arange(1, len(hits) + 1)
    return float((precision * hits).sum() / hits.sum())


def plain_cnn(num_classes):
    """Channel widths 32-256; max pooling keeps the strongest local response, however small the object."""
    layers, channels = [], 3
    for width, stride in [(32, 1), (64, 2), (64, 1), (128, 2), (128, 1), (256, 2), (256, 1)]:
        layers += [torch.nn.Conv2d(channels, width, 3, stride, 1, bias=False), torch.nn.BatchNorm2d(width),
                   torch.nn.ReLU(inplace=True)]
        channels = width
    return torch.nn.Sequential(*layers, torch.nn.AdaptiveMaxPool2d(1), torch.nn.Flatten(),
                               torch.nn.Linear(channels, num_classes))


def make_model(name, num_classes):
    if name == "mobilenet_v2":
        return torchvision.models.mobilenet_v2(width_mult=0.5, num_classes=num_classes)
    if name == "plain_cnn":
        return plain_cnn(num_classes)
    sys.exit(f"unknown model '{name}': expected mobilenet_v2 or plain_cnn")


def main():
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__)
    root, images, epochs, lr = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    model_name = sys.argv[5] if len(sys.argv) == 6 else "mobilenet_v2"
    torch.set_num_threads(2)
    torch.manual_seed(0)
    train_x, train_y = load_split(root, "train2017", images)
    val_x, val_y = load_split(root, "val2017", 10**9)
    model = make_model(model_name, train_y.shape[1])
    model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    batch = 32
    steps_per_epoch = images // batch
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch,
                                                   pct_start=0.05)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(images)
        total = 0.0
        for step in range(steps_per_epoch):
            members = order[step * batch:(step + 1) * batch]
            x = train_x[members]
            if torch.rand(1) < 0.5:
                x = x.flip(3)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(normalise(x)), train_y[members])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item()
        model.eval()
        with torch.no_grad():
            scores = torch.cat([model(normalise(val_x[i:i + 256])) for i in range(0, len(val_x), 256)])
        aps = [average_precision(scores[:, c], val_y[:, c]) for c in range(val_y.shape[1]) if val_y[:, c].sum() > 0]
        print(f"epoch {epoch + 1}: train loss {total / steps_per_epoch:.4f}  val mAP {100 * sum(aps) / len(aps):.2f}",
              flush=True)


if __name__ == "__main__":
    main()
