"""Python reference for the COCO reader benchmark: json.load plus the index pycocotools' COCO() builds.

Usage: /usr/bin/python3 coco_index_reference.py INSTANCES_JSON [RUNS]
Prints one line per run and a final `best_seconds=S images=N annotations=M` line that the C++ benchmark parses.
"""
import collections
import json
import sys
import time


def load_and_index(path):
    """What COCO(annotation_file) does: load the file, then createIndex()."""
    with open(path, "r") as f:
        dataset = json.load(f)
    anns, cats, imgs = {}, {}, {}
    img_to_anns = collections.defaultdict(list)
    cat_to_imgs = collections.defaultdict(list)
    for ann in dataset.get("annotations", []):
        img_to_anns[ann["image_id"]].append(ann)
        anns[ann["id"]] = ann
    for img in dataset.get("images", []):
        imgs[img["id"]] = img
    for cat in dataset.get("categories", []):
        cats[cat["id"]] = cat
    if "annotations" in dataset and "categories" in dataset:
        for ann in dataset["annotations"]:
            cat_to_imgs[ann["category_id"]].append(ann["image_id"])
    return imgs, anns, cats, img_to_anns, cat_to_imgs


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    path = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) == 3 else 1
    best = float("inf")
    for run in range(runs):
        start = time.perf_counter()
        imgs, anns, _, _, _ = load_and_index(path)
        seconds = time.perf_counter() - start
        best = min(best, seconds)
        print(f"run {run + 1}: {seconds:.3f} s", flush=True)
        del _
    print(f"best_seconds={best:.6f} images={len(imgs)} annotations={len(anns)}", flush=True)


if __name__ == "__main__":
    main()
