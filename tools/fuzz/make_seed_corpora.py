#!/usr/bin/python3
"""Writes every fuzz target's seed corpus (testdata/fuzz/<target>/ in the target's package) and its dictionary.

Seeds are small valid files of each format, the same kinds the tests make: COCO JSON (the reader test's quirks file,
a minimal export, the first images of ../shared/coco_samples when present), tiny JPEGs (baseline, progressive,
grayscale, CMYK, 4:2:0 and 4:4:4, restart markers), PNGs (RGBA, gray + alpha, palette) and WebPs (lossy, lossless), torch.save state dicts (a plain dict, an OrderedDict as
model.state_dict() gives, a nested checkpoint), layered configs from experiments/, thresholds files, TensorBoard
event files and a training checkpoint (written by //trainer/outputs:make_checkpoint_seed, through `bazel run`). Small seeds keep each fuzzing iteration fast. Run from the repository root:

    /usr/bin/python3 tools/fuzz/make_seed_corpora.py

Needs python3-torch and python3-pil (tools/setup.sh installs both). Rewrites the seed directories from scratch.
"""
import collections
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile

import torch
from PIL import Image

ROOT = os.getcwd()


def corpus(package, target):
    path = os.path.join(ROOT, package, "testdata", "fuzz", target)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def write(directory, name, data):
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def write_dict(package, name, tokens):
    lines = ["# libFuzzer dictionary, written by tools/fuzz/make_seed_corpora.py"]
    for token in tokens:
        raw = token if isinstance(token, bytes) else token.encode()
        lines.append('"' + "".join(chr(b) if 32 <= b < 127 and chr(b) not in '"\\' else "\\x%02X" % b for b in raw) + '"')
    with open(os.path.join(ROOT, package, "testdata", "fuzz", name), "w") as f:
        f.write("\n".join(lines) + "\n")


def coco_seeds():
    out = corpus("data/coco", "coco_reader_fuzzer")
    minimal = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 4, "height": 3},
                   {"id": 2, "file_name": "b.jpg", "width": 5, "height": 6}],
        "annotations": [{"id": 7, "image_id": 1, "category_id": 1, "area": 2.0, "iscrowd": 0, "bbox": [0, 0, 1, 2]},
                        {"id": 8, "image_id": 2, "category_id": 18, "area": 0.5, "iscrowd": 1}],
        "categories": [{"id": 1, "name": "person", "supercategory": "person"},
                       {"id": 18, "name": "dog", "supercategory": "animal"}],
    }
    voc = dict(minimal, categories=[{"id": 1, "name": "aeroplane"}, {"id": 18, "name": "tvmonitor"}])
    sources = {"minimal.json": json.dumps(minimal), "voc_names.json": json.dumps(voc),
               "quirks.json": open(os.path.join(ROOT, "data/coco/testdata/quirks.json")).read()}
    samples = os.path.join(ROOT, "..", "shared", "coco_samples", "icevision", "annotations.json")
    if os.path.exists(samples):  # three of the real images, their annotations and every category
        real = json.load(open(samples))
        keep = {image["id"] for image in real["images"][:3]}
        for annotation in real["annotations"]:
            annotation.pop("segmentation", None)
        sources["coco_samples.json"] = json.dumps({
            "images": [i for i in real["images"] if i["id"] in keep],
            "annotations": [a for a in real["annotations"] if a["image_id"] in keep],
            "categories": real["categories"]})
    for name, text in sources.items():
        for options in (0x00, 0x07, 0x3F):  # the first byte picks the reader options
            write(out, "%02x_%s" % (options, name), bytes([options]) + text.encode())
    write_dict("data/coco", "coco.dict", ["images", "annotations", "categories", "id", "image_id", "category_id",
                                          "file_name", "width", "height", "area", "iscrowd", "bbox", "name",
                                          "supercategory", "segmentation", "null", "true", "false", "\\u0000",
                                          "\xef\xbb\xbf", "1e308", "-1", "[]", "{}"])

    out = corpus("data/coco", "class_list_fuzzer")
    write(out, "coco_names.txt", "# classes\nperson\nbicycle\ncar\n\ndining table\n")
    write(out, "aliases.txt", "aeroplane=airplane\nsofa=couch\n")
    write(out, "duplicate.txt", "cat\ncat\n")


def jpeg_seeds():
    out = corpus("data/image", "jpeg_fuzzer")
    gradient = Image.new("RGB", (24, 17))
    gradient.putdata([(x * 10, y * 15, (x + y) * 6) for y in range(17) for x in range(24)])
    variants = {
        "baseline_420.jpg": (gradient, dict(quality=75, subsampling=2)),
        "baseline_444.jpg": (gradient, dict(quality=90, subsampling=0)),
        "progressive.jpg": (gradient, dict(quality=60, progressive=True)),
        "gray.jpg": (gradient.convert("L"), dict(quality=80)),
        "cmyk.jpg": (gradient.convert("CMYK"), dict(quality=80)),
        "restart.jpg": (gradient.resize((40, 33)), dict(quality=70, restart_marker_blocks=1)),
        "tall.jpg": (gradient.resize((9, 70)), dict(quality=50)),
    }
    for name, (image, options) in variants.items():
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", **options)
        for choice in (0x00, 0x0D):  # the first byte picks decode sizes and the crop
            write(out, "%02x_%s" % (choice, name), bytes([choice]) + buffer.getvalue())
    # Markers: SOI, EOI, SOF0/1/2, DHT, DQT, DRI, SOS, APP0/APP14 (Adobe), RST0, COM.
    write_dict("data/image", "jpeg.dict", [b"\xff\xd8", b"\xff\xd9", b"\xff\xc0", b"\xff\xc1", b"\xff\xc2",
                                           b"\xff\xc4", b"\xff\xdb", b"\xff\xdd", b"\xff\xda", b"\xff\xe0",
                                           b"\xff\xee", b"\xff\xd0", b"\xff\xfe", b"JFIF\x00", b"Adobe"])


def image_seeds():
    """PNG and WebP files for image_fuzzer (the format is found from the bytes; JPEGs come from jpeg_seeds)."""
    out = corpus("data/image", "image_fuzzer")
    gradient = Image.new("RGBA", (7, 5))
    gradient.putdata([(x * 30, y * 50, 200, 40 * x) for y in range(5) for x in range(7)])
    gradient.save(os.path.join(out, "rgba.png"))
    gradient.convert("LA").save(os.path.join(out, "gray_alpha.png"))
    gradient.convert("RGB").convert("P", palette=Image.ADAPTIVE, colors=16).save(os.path.join(out, "palette.png"))
    gradient.convert("RGB").save(os.path.join(out, "lossy.webp"), "WEBP", quality=50)
    gradient.save(os.path.join(out, "lossless.webp"), "WEBP", lossless=True)


def state_dict_seeds():
    out = corpus("mobilenet", "state_dict_fuzzer")
    torch.manual_seed(0)

    def saved(value):
        buffer = io.BytesIO()
        torch.save(value, buffer)
        return buffer.getvalue()

    plain = {"classifier.1.weight": torch.randn(10, 4), "classifier.1.bias": torch.zeros(10)}
    ordered = collections.OrderedDict([("features.0.1.running_mean", torch.randn(3)),
                                       ("features.0.1.num_batches_tracked", torch.tensor(5))])
    write(out, "plain_dict.pt", saved(plain))
    write(out, "ordered_dict.pt", saved(ordered))
    write(out, "nested_checkpoint.pt", saved({"epoch": 3, "state_dict": ordered}))
    write(out, "strided_view.pt", saved({"a": torch.arange(12.0).reshape(3, 4)[:, 1:3], "b": torch.ones(2).half()}))
    write(out, "not_a_dict.pt", saved([torch.ones(1)]))
    # The legacy (pre-1.6, non-zip) format, with two views of one storage.
    legacy = io.BytesIO()
    base = torch.arange(12.0)
    torch.save(collections.OrderedDict([("a", base[2:8].view(2, 3)), ("b", base[:4]), ("n", torch.tensor(7))]),
               legacy, _use_new_zipfile_serialization=False)
    write(out, "legacy_state_dict.pt", legacy.getvalue())
    forged_state_dicts(saved(plain))
    # Pickle opcodes the files use, and the archive's names.
    write_dict("mobilenet", "pickle.dict", [b"\x80\x02", b"}q\x00", b"ccollections\nOrderedDict\n",
                                            b"ctorch._utils\n_rebuild_tensor_v2\n", b"ctorch\nFloatStorage\n",
                                            b"X\x05\x00\x00\x00", b"K\x00", b"J", b"M", b"(", b"t", b"R", b"Q", b"u",
                                            b"s", b"e", b"]", b"\x85", b"\x86", b"\x87", b".", b"PK\x03\x04",
                                            b"PK\x01\x02", b"PK\x05\x06", b"archive/data.pkl", b"archive/data/0",
                                            b"archive/version", b"persistent_load", b"storage"])


def forged_state_dicts(valid):
    """Regression inputs: a valid file whose pickle states shapes, strides or offsets its storage cannot hold."""
    out = os.path.join(ROOT, "mobilenet", "testdata", "fuzz", "state_dict_regressions")
    os.makedirs(out, exist_ok=True)
    buffer = io.BytesIO()
    torch.save({"w": torch.arange(12.0).reshape(3, 4)}, buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    pickle = source.read("archive/data.pkl")

    def int32(value):
        return b"J" + struct.pack("<i", value)

    # In the pickle: storage numel "K\x0c" (12), then offset "K\x00", shape "K\x03K\x04\x86", strides "K\x04K\x01\x86".
    forged = {
        "shape_beyond_storage.pt": pickle.replace(b"K\x03K\x04\x86", int32(100000) + int32(100000) + b"\x86")
                                         .replace(b"K\x04K\x01\x86", int32(100000) + b"K\x01\x86"),
        "offset_beyond_storage.pt": pickle.replace(b"QK\x00", b"Q" + int32(1000000000)),
        "one_row_too_many.pt": pickle.replace(b"K\x03K\x04\x86", b"K\x04K\x04\x86"),
        "negative_shape.pt": pickle.replace(b"K\x03K\x04\x86", int32(-3) + b"K\x04\x86"),
    }
    for name, data in forged.items():
        assert data != pickle, name
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as z:
            for member in source.namelist():
                stamped = zipfile.ZipInfo(member, date_time=(2026, 1, 1, 0, 0, 0))  # same bytes on every run
                z.writestr(stamped, data if member.endswith("data.pkl") else source.read(member))
        write(out, name, archive.getvalue())


def config_seeds():
    out = corpus("trainer/config", "config_fuzzer")
    experiments = os.path.join(ROOT, "experiments")
    base = open(os.path.join(experiments, "base.pbtxt")).read()
    for name in ("focal", "finetune_freeze", "two_way", "class_balanced", "mobilenet_v1"):
        overlay = open(os.path.join(experiments, name + ".pbtxt")).read()
        write(out, name + ".txt", base + "---\n" + overlay + "---\ntraining { epochs: 1 batch_size: 4 }\n")
    write(out, "clear.txt", base + "---\nclear: \"fine_tune.freeze_patterns\"\nfine_tune { freeze_patterns: \"^a\" }\n")
    write_dict("trainer/config", "config.dict", ["model", "data", "loss", "optimizer", "schedule", "training",
                                                 "fine_tune", "output", "metrics", "clear", "{", "}", ":", "\"",
                                                 "epochs", "batch_size", "synthetic", "coco", "focal", "bce",
                                                 "label_space", "sources", "---\n", "1e309", "-9223372036854775808"])


def thresholds_seeds():
    out = corpus("metrics", "thresholds_fuzzer")
    write(out, "three.txt", "# written by metrics/thresholds.cc\nnum_classes 3\nclass 0 0.5 person\n"
                            "class 1 0.25 dining table\nclass 2 0.012345678901234568 cat\n")
    write(out, "wrong_count.txt", "num_classes 2\nclass 0 0.5 person\nclass 1 0.5 dining table\n")


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(crc):
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def record(payload):
    length = struct.pack("<Q", len(payload))
    return length + struct.pack("<I", masked(crc32c(length))) + payload + struct.pack("<I", masked(crc32c(payload)))


def varint(value):
    out = b""
    while True:
        byte = value & 0x7F
        value >>= 7
        out += bytes([byte | (0x80 if value else 0)])
        if not value:
            return out


def field(number, wire, payload):
    return varint(number << 3 | wire) + payload


def event_seeds():
    out = corpus("trainer/outputs", "event_reader_fuzzer")
    version = field(1, 1, struct.pack("<d", 1.5e9)) + field(3, 2, varint(13) + b"brain.Event:2")
    value = field(1, 2, varint(9) + b"train/mAP") + field(2, 5, struct.pack("<f", 0.25))
    scalar = field(1, 1, struct.pack("<d", 1.5e9 + 1)) + field(2, 0, varint(42)) + field(5, 2, varint(
        len(field(1, 2, varint(len(value)) + value))) + field(1, 2, varint(len(value)) + value))
    write(out, "file.tfevents", b"\x01" + record(version) + record(scalar))  # odd first byte: the file as is
    write(out, "framed_scalar", b"\x00" + scalar)  # even: the harness frames the payload


def checkpoint_seeds():
    """The checkpoint format is this repository's own: its writer makes the seed (a few kilobytes)."""
    out = corpus("trainer/outputs", "checkpoint_fuzzer")
    subprocess.run(["bazel", "run", "//trainer/outputs:make_checkpoint_seed", "--",
                    os.path.join(out, "tiny_sgd_ema")], check=True)


def main():
    if not os.path.exists(os.path.join(ROOT, "WORKSPACE")):
        sys.exit("run from the repository root")
    coco_seeds()
    jpeg_seeds()
    image_seeds()
    state_dict_seeds()
    config_seeds()
    thresholds_seeds()
    event_seeds()
    checkpoint_seeds()
    print("seed corpora written")


if __name__ == "__main__":
    main()
