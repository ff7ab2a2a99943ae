#!/usr/bin/python3
"""Python reference for //data:pipeline_benchmark: PIL decode + torchvision train transforms through a DataLoader.

    /usr/bin/python3 data/benchmarks/pipeline_reference.py --workers 2 --batch 32 --size 224 \
        [--rand_augment_ops N --rand_augment_magnitude M] FILE_LIST

FILE_LIST has one JPEG path per line. Runs one warm-up epoch (worker start-up), then times `--epochs` epochs with
persistent workers and prints `images_per_second <value>` as its last line. Uses Debian's python3-torch and
python3-torchvision (run with /usr/bin/python3).
"""
import argparse
import time

import torch
from PIL import Image
from torchvision import transforms


class Files(torch.utils.data.Dataset):
    def __init__(self, paths, transform):
        self.paths = paths
        self.transform = transform

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        with Image.open(self.paths[index]) as image:
            return self.transform(image.convert("RGB"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file_list")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rand_augment_ops", type=int, default=0)  # 0: no RandAugment
    parser.add_argument("--rand_augment_magnitude", type=int, default=9)
    args = parser.parse_args()
    with open(args.file_list) as f:
        paths = [line.strip() for line in f if line.strip()]
    steps = [transforms.RandomResizedCrop(args.size), transforms.RandomHorizontalFlip()]
    if args.rand_augment_ops > 0:
        steps.append(transforms.RandAugment(num_ops=args.rand_augment_ops, magnitude=args.rand_augment_magnitude))
    transform = transforms.Compose(steps + [
        transforms.ToTensor(),
        transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
    ])
    loader = torch.utils.data.DataLoader(Files(paths, transform), batch_size=args.batch, shuffle=True,
                                         num_workers=args.workers, persistent_workers=args.workers > 0)
    for _ in loader:  # warm-up: worker start-up is not counted
        pass
    start = time.perf_counter()
    count = 0
    for _ in range(args.epochs):
        for batch in loader:
            count += batch.shape[0]
    elapsed = time.perf_counter() - start
    print(f"images_per_second {count / elapsed:.1f}")


if __name__ == "__main__":
    main()
