#!/bin/bash
# Trains a tiny model (2 epochs, 48 synthetic images at 32 px) and checks that //trainer:evaluate prints well-formed
# results, and that //trainer:predict tags a folder: JPEGs, a PNG, a truncated JPEG and a text file named .jpg give
# one JSON line each in sorted order, the bad files reported and skipped with exit status 3, top_k respected and
# labels consistent with the thresholds; plus globs, --recursive=false, --out, --format=text and input errors; both
# with --tta=flip, and //trainer:average on the run's state dicts.
set -euo pipefail
bin="${TEST_SRCDIR}/coco_multilabel/trainer"
run="${TEST_TMPDIR}/run"
cache="${TEST_TMPDIR}/cache"
fail() { echo "FAIL: $*" >&2; exit 1; }

# One thread and no channels_last in the config, as evaluate runs (it takes the threads from the config and always
# runs NCHW): this tiny model's logits differ between images by ~1e-5, so its rankings, hence mAP, follow the rounding.
"${bin}/train" --config=baseline_bce --run_dir="${run}" --cache_dir="${cache}" --threads=1 \
  --override='data { synthetic { train_images: 48 val_images: 24 image_size: 48 } resolution: 32 loader_threads: 1
                     calibration_min_positives: 1 calibration_shrinkage: 3 }
              model { width_mult: 0.25 } training { epochs: 2 batch_size: 8 threads: 1 channels_last: false }' \
  > "${TEST_TMPDIR}/train.log" 2>&1 || { cat "${TEST_TMPDIR}/train.log"; fail "training failed"; }

# --batch_size: the training run's validation batches, for the same rounding.
"${bin}/evaluate" --run_dir="${run}" --cache_dir="${cache}" --batch_size=8 > "${TEST_TMPDIR}/evaluate.txt" 2>&1 \
  || { cat "${TEST_TMPDIR}/evaluate.txt"; fail "evaluate failed"; }
grep -q "24 images" "${TEST_TMPDIR}/evaluate.txt" || fail "evaluate did not report 24 val images"
grep -q "With thresholds from ${run}/thresholds.txt" "${TEST_TMPDIR}/evaluate.txt" || fail "no thresholds section"
# model_best.pt (evaluate's default) scores the mAP the run reported for it, as printed (both "%.2f" of percent), in
# every section (mAP does not depend on the thresholds).
run_map=$(sed -n 's/^- best mAP: \([0-9.]*\) at epoch .*`model_best.pt`.*/\1/p' "${run}/report.md")
evaluate_maps=$(sed -n 's/^mAP \([0-9.]*\)  (VOC .*/\1/p' "${TEST_TMPDIR}/evaluate.txt" | sort -u)
[[ -n ${run_map} ]] || { cat "${run}/report.md"; fail "report.md gives no best mAP for model_best.pt"; }
[[ ${evaluate_maps} == "${run_map}" ]] \
  || { cat "${TEST_TMPDIR}/evaluate.txt"; fail "evaluate's mAP ${evaluate_maps//$'\n'/ } is not the run's ${run_map}"; }
grep -q "^person " "${TEST_TMPDIR}/evaluate.txt" || fail "no per-class row for person"

"${bin}/evaluate" --run_dir="${run}" --cache_dir="${cache}" --weights="${run}/nope.pt" > /dev/null 2>&1 \
  && fail "evaluate accepted missing weights"

# --thresholds=calibration tunes anew on the run's calibration split; with the run config's own protocol (set above so
# that both its settings act on the few calibration images) and the best weights it must reproduce thresholds.txt, so
# the per-class tables (thresholds, P, R, F1) are the same.
per_class_table() { sed -n '/^class /,$p' "$1"; }
"${bin}/evaluate" --run_dir="${run}" --cache_dir="${cache}" --batch_size=8 --thresholds=calibration \
  > "${TEST_TMPDIR}/retuned.txt" 2>&1 || { cat "${TEST_TMPDIR}/retuned.txt"; fail "evaluate --thresholds=calibration"; }
grep -q "With thresholds tuned now on the calibration split" "${TEST_TMPDIR}/retuned.txt" || fail "no retuned section"
[[ -n $(per_class_table "${TEST_TMPDIR}/evaluate.txt") ]] || fail "no per-class table"
diff <(per_class_table "${TEST_TMPDIR}/evaluate.txt") <(per_class_table "${TEST_TMPDIR}/retuned.txt") \
  || fail "thresholds retuned with the run's protocol differ from its thresholds.txt"
# Every class on its own, then pulled all the way to the global threshold: one threshold left in the table.
thresholds_in() { per_class_table "$1" | awk 'NR > 1 { print $(NF - 5) }' | sort -u | wc -l; }
for shrinkage in 0 1000000; do
  "${bin}/evaluate" --run_dir="${run}" --cache_dir="${cache}" --batch_size=8 --thresholds=calibration \
    --calibration_min_positives=0 --calibration_shrinkage="${shrinkage}" > "${TEST_TMPDIR}/shrunk_${shrinkage}.txt" \
    2>&1 || { cat "${TEST_TMPDIR}/shrunk_${shrinkage}.txt"; fail "evaluate --calibration_shrinkage=${shrinkage}"; }
done
grep -q "pulled toward the global threshold" "${TEST_TMPDIR}/shrunk_1000000.txt" || fail "shrinkage not described"
(( $(thresholds_in "${TEST_TMPDIR}/shrunk_0.txt") > 1 )) || fail "own thresholds all equal: the check below is void"
(( $(thresholds_in "${TEST_TMPDIR}/shrunk_1000000.txt") == 1 )) \
  || { cat "${TEST_TMPDIR}/shrunk_1000000.txt"; fail "thresholds not pulled to the global one"; }

# --tta=flip: the same images, each also flipped; the averaged logits rank the images differently here (the mAP of
# this run without the flip is 20.20, with it 23.36), so the same mAP would mean the flip did nothing.
"${bin}/evaluate" --run_dir="${run}" --cache_dir="${cache}" --batch_size=8 --tta=flip > "${TEST_TMPDIR}/evaluate_tta.txt" \
  2>&1 || { cat "${TEST_TMPDIR}/evaluate_tta.txt"; fail "evaluate --tta=flip failed"; }
grep -q "^Test-time augmentation: flip" "${TEST_TMPDIR}/evaluate_tta.txt" || fail "evaluate does not say it flips"
grep -q "24 images" "${TEST_TMPDIR}/evaluate_tta.txt" || fail "evaluate --tta=flip did not report 24 val images"
tta_maps=$(sed -n 's/^mAP \([0-9.]*\)  (VOC .*/\1/p' "${TEST_TMPDIR}/evaluate_tta.txt" | sort -u)
[[ -n ${tta_maps} && ${tta_maps} != "${run_map}" ]] \
  || { cat "${TEST_TMPDIR}/evaluate_tta.txt"; fail "evaluate --tta=flip gives the unflipped mAP ${run_map}"; }
grep -q "^Test-time augmentation" "${TEST_TMPDIR}/evaluate.txt" && fail "evaluate without --tta says it flips"
rc=0
"${bin}/evaluate" --run_dir="${run}" --cache_dir="${cache}" --tta=mirror > /dev/null 2> "${TEST_TMPDIR}/tta.err" || rc=$?
[[ ${rc} -eq 1 ]] && grep -q "unknown test-time augmentation 'mirror' (known: none, flip)" "${TEST_TMPDIR}/tta.err" \
  || { cat "${TEST_TMPDIR}/tta.err"; fail "--tta=mirror should be refused, listing the known ones"; }

# //trainer:average: model_best.pt, model_last.pt and a copy of model_last.pt shifted by Python's torch (so the three
# differ); Python checks each floating tensor is their mean and num_batches_tracked the last file's, and evaluate
# loads the result. A file missing a key is refused, naming the file and the key.
/usr/bin/python3 - "${run}/model_last.pt" "${TEST_TMPDIR}/shifted.pt" "${TEST_TMPDIR}/missing_key.pt" <<'PY'
import sys, torch
state = torch.load(sys.argv[1])
torch.save({k: (v + 0.5 if v.is_floating_point() else v + 7) for k, v in state.items()}, sys.argv[2])
del state["classifier.1.bias"]
torch.save(state, sys.argv[3])
PY
"${bin}/average" --out="${TEST_TMPDIR}/avg.pt" "${run}/model_best.pt" "${run}/model_last.pt" "${TEST_TMPDIR}/shifted.pt" \
  2> "${TEST_TMPDIR}/average.err" || { cat "${TEST_TMPDIR}/average.err"; fail "average failed"; }
/usr/bin/python3 - "${TEST_TMPDIR}/avg.pt" "${run}/model_best.pt" "${run}/model_last.pt" "${TEST_TMPDIR}/shifted.pt" <<'PY' \
  || fail "the averaged state dict is not the mean of its inputs"
import sys, torch
average, *inputs = [torch.load(path) for path in sys.argv[1:]]
assert set(average) == set(inputs[0]), "keys differ"
for key, value in average.items():
    assert value.dtype == inputs[0][key].dtype and value.shape == inputs[0][key].shape, key
    if value.is_floating_point():
        mean = sum(i[key].double() for i in inputs) / len(inputs)
        assert torch.allclose(value.double(), mean, rtol=1e-6, atol=1e-6), key
    else:
        assert torch.equal(value, inputs[-1][key]), key
print("ok", len(average))
PY
"${bin}/evaluate" --run_dir="${run}" --cache_dir="${cache}" --weights="${TEST_TMPDIR}/avg.pt" --thresholds=none \
  > "${TEST_TMPDIR}/evaluate_avg.txt" 2>&1 || { cat "${TEST_TMPDIR}/evaluate_avg.txt"; fail "evaluate of avg.pt failed"; }
rc=0
"${bin}/average" --out="${TEST_TMPDIR}/bad.pt" "${run}/model_last.pt" "${TEST_TMPDIR}/missing_key.pt" \
  2> "${TEST_TMPDIR}/average_bad.err" || rc=$?
[[ ${rc} -eq 1 ]] && grep -q "'${TEST_TMPDIR}/missing_key.pt' has no key 'classifier.1.bias'" "${TEST_TMPDIR}/average_bad.err" \
  || { cat "${TEST_TMPDIR}/average_bad.err"; fail "a missing key should be refused naming the file and key"; }
[[ ! -e "${TEST_TMPDIR}/bad.pt" ]] || fail "a refused average left an output file"

# The folder: two JPEGs (one in a subdirectory), the first JPEG re-encoded losslessly as PNG by PIL, a truncated
# JPEG, a text file named .jpg, and a .txt file a directory walk must pass over.
val=("${cache}"/synthetic-*/val2017)
photos="${TEST_TMPDIR}/photos"
mkdir -p "${photos}/sub"
cp "${val[0]}/000001000001.jpg" "${photos}/a.jpg"
cp "${val[0]}/000001000002.jpg" "${photos}/sub/c.jpg"
/usr/bin/python3 -c 'import sys; from PIL import Image; Image.open(sys.argv[1]).convert("RGB").save(sys.argv[2])' \
  "${photos}/a.jpg" "${photos}/a_copy.png"
head -c 600 "${val[0]}/000001000003.jpg" > "${photos}/b_truncated.jpg"
echo "not an image" > "${photos}/notes.jpg"
echo "ignored" > "${photos}/readme.txt"

# JSON Lines checks: sorted files, one line each, errors exactly for the expected files, top_k and thresholds.
check_jsonl() {  # FILE EXPECTED_FILES(comma-separated) ERROR_FILES(comma-separated) TOP_K THRESHOLDS(number|run path)
  /usr/bin/python3 - "$@" <<'PY'
import json, sys
path, expected, errors, top_k, thresholds = sys.argv[1:6]
records = [json.loads(line) for line in open(path)]
files = [r["file"] for r in records]
assert files == expected.split(","), f"files {files} != {expected}"
assert files == sorted(files), "not sorted"
bad = [r["file"] for r in records if "error" in r]
assert bad == [f for f in errors.split(",") if f], f"error lines for {bad}, expected {errors}"
if thresholds.replace(".", "").isdigit():
    threshold_of = lambda name: float(thresholds)
else:
    table = {}
    for line in open(thresholds):
        if line.startswith("class "):
            _, _, value, name = line.rstrip("\n").split(" ", 3)
            table[name] = float(value)
    threshold_of = lambda name: table[name]
for r in records:
    if "error" in r:
        assert set(r) == {"file", "error"} and r["error"], r
        continue
    top, labels = r["top"], r["labels"]
    assert len(top) == int(top_k), f"{len(top)} top entries, expected {top_k}"
    for items in (top, labels):
        scores = [i["score"] for i in items]
        assert scores == sorted(scores, reverse=True), f"not most probable first: {items}"
        assert all(0 <= s <= 1 for s in scores), items
    tol = 1e-5
    for item in labels:
        assert item["score"] >= threshold_of(item["name"]) - tol, f"label under its threshold: {item}"
    names = {i["name"] for i in labels}
    for item in top:
        if item["score"] >= threshold_of(item["name"]) + tol:
            assert item["name"] in names, f"{item} passes its threshold but is not a label"
        elif item["score"] < threshold_of(item["name"]) - tol:
            assert item["name"] not in names, f"{item} is under its threshold but a label"
    if top and labels:
        assert labels[0]["score"] <= top[0]["score"] + tol
print("ok", len(records))
PY
}

p="${photos}"
rc=0
"${bin}/predict" --run_dir="${run}" --top_k=3 "${p}" > "${TEST_TMPDIR}/predict.jsonl" 2> "${TEST_TMPDIR}/predict.err" \
  || rc=$?
[[ ${rc} -eq 3 ]] || { cat "${TEST_TMPDIR}/predict.err"; fail "expected exit status 3 with skipped files, got ${rc}"; }
check_jsonl "${TEST_TMPDIR}/predict.jsonl" "${p}/a.jpg,${p}/a_copy.png,${p}/b_truncated.jpg,${p}/notes.jpg,${p}/sub/c.jpg" \
  "${p}/b_truncated.jpg,${p}/notes.jpg" 3 "${run}/thresholds.txt" || { cat "${TEST_TMPDIR}/predict.jsonl"; fail "bad JSON Lines"; }
grep -q "skipped ${p}/b_truncated.jpg: .*truncated" "${TEST_TMPDIR}/predict.err" \
  || { cat "${TEST_TMPDIR}/predict.err"; fail "the truncated JPEG was not reported"; }
grep -q "skipped ${p}/notes.jpg: .*match no image format.*supported: JPEG, PNG" "${TEST_TMPDIR}/predict.err" \
  || { cat "${TEST_TMPDIR}/predict.err"; fail "the text file was not reported"; }
grep -q "Predicted 3 images (2 skipped)" "${TEST_TMPDIR}/predict.err" || fail "no summary line"

# The PNG holds the JPEG's decoded pixels, so its scores match the JPEG's.
/usr/bin/python3 - "${TEST_TMPDIR}/predict.jsonl" <<'PY' || fail "the PNG's scores differ from its JPEG's"
import json, sys
records = {r["file"].rsplit("/", 1)[1]: r for r in map(json.loads, open(sys.argv[1]))}
jpeg, png = records["a.jpg"]["top"], records["a_copy.png"]["top"]
assert [i["name"] for i in jpeg] == [i["name"] for i in png], (jpeg, png)
assert all(abs(a["score"] - b["score"]) < 2e-3 for a, b in zip(jpeg, png)), (jpeg, png)
PY

# A global threshold, every class in top, --out (atomic file) with the same lines stdout would get.
rc=0
"${bin}/predict" --run_dir="${run}" --thresholds=none --threshold=0.5 --top_k=80 --batch_size=2 --loader_threads=2 \
  --out="${TEST_TMPDIR}/out.jsonl" "${p}" > "${TEST_TMPDIR}/stdout.txt" 2> /dev/null || rc=$?
[[ ${rc} -eq 3 ]] || fail "expected exit status 3 with --out, got ${rc}"
[[ ! -s "${TEST_TMPDIR}/stdout.txt" ]] || fail "--out still wrote to stdout"
check_jsonl "${TEST_TMPDIR}/out.jsonl" "${p}/a.jpg,${p}/a_copy.png,${p}/b_truncated.jpg,${p}/notes.jpg,${p}/sub/c.jpg" \
  "${p}/b_truncated.jpg,${p}/notes.jpg" 80 0.5 || fail "bad --out JSON Lines"
ls "${TEST_TMPDIR}" | grep -q "out.jsonl.tmp" && fail "a temporary file was left behind"

# Threshold 0: every class is a label.
"${bin}/predict" --run_dir="${run}" --thresholds=none --threshold=0 --top_k=0 "${p}/a.jpg" > "${TEST_TMPDIR}/all.jsonl" \
  || fail "predict on one good image should exit 0"
check_jsonl "${TEST_TMPDIR}/all.jsonl" "${p}/a.jpg" "" 0 0 || fail "bad JSON for threshold 0"
[[ "$(grep -o '"name"' "${TEST_TMPDIR}/all.jsonl" | wc -l)" -eq 80 ]] || fail "threshold 0 should label all 80 classes"

# Good files only: exit 0. A quoted glob, expanded by predict; --recursive=false leaves sub/ out.
"${bin}/predict" --run_dir="${run}" "${p}/a.jpg" "${p}/sub" "${p}/a_copy.png" > "${TEST_TMPDIR}/good.jsonl" 2> /dev/null \
  || fail "all-good inputs should exit 0"
check_jsonl "${TEST_TMPDIR}/good.jsonl" "${p}/a.jpg,${p}/a_copy.png,${p}/sub/c.jpg" "" 5 "${run}/thresholds.txt" \
  || fail "bad JSON for good files"
rc=0
"${bin}/predict" --run_dir="${run}" "${p}/*.jpg" > "${TEST_TMPDIR}/glob.jsonl" 2> /dev/null || rc=$?
[[ ${rc} -eq 3 ]] || fail "glob run: expected 3, got ${rc}"
check_jsonl "${TEST_TMPDIR}/glob.jsonl" "${p}/a.jpg,${p}/b_truncated.jpg,${p}/notes.jpg" \
  "${p}/b_truncated.jpg,${p}/notes.jpg" 5 "${run}/thresholds.txt" || fail "bad JSON for a glob"
"${bin}/predict" --run_dir="${run}" --recursive=false "${p}" > "${TEST_TMPDIR}/flat.jsonl" 2> /dev/null || true
[[ "$(wc -l < "${TEST_TMPDIR}/flat.jsonl")" -eq 4 ]] || fail "--recursive=false should give 4 lines"

# The human-readable format.
"${bin}/predict" --run_dir="${run}" --format=text "${p}" > "${TEST_TMPDIR}/predict.txt" 2> /dev/null || true
[[ "$(grep -c '\.\(jpg\|png\): ' "${TEST_TMPDIR}/predict.txt")" -eq 5 ]] || { cat "${TEST_TMPDIR}/predict.txt"; fail "expected 5 text lines"; }
grep -q "notes.jpg: error: " "${TEST_TMPDIR}/predict.txt" || fail "text format: no error line"
"${bin}/predict" --run_dir="${run}" --format=text --thresholds=none --threshold=0 "${p}/a.jpg" | grep -q "person 0\." \
  || fail "threshold 0 should list every class with its probability"

# Inputs that name nothing stop the run before any work (exit 1), naming the input.
rc=0
"${bin}/predict" --run_dir="${run}" "${p}/a.jpg" "${p}/missing.jpg" > /dev/null 2> "${TEST_TMPDIR}/missing.err" || rc=$?
[[ ${rc} -eq 1 ]] && grep -q "missing.jpg" "${TEST_TMPDIR}/missing.err" || fail "a missing input should exit 1 naming it"
rc=0
"${bin}/predict" --run_dir="${run}" --format=xml "${p}" > /dev/null 2>&1 || rc=$?
[[ ${rc} -eq 1 ]] || fail "--format=xml should be refused"
# predict --tta=flip. This tiny model's scores hardly depend on the image (they differ by ~1e-6 between an image and
# its mirror image), so this checks the plumbing, not the arithmetic (evaluation_test does that): the records are
# well-formed, and with the flip an image and its mirror image get the same scores, each the sigmoid of the mean of
# the two unflipped logits, to the printed precision.
mirror="${TEST_TMPDIR}/mirror"
mkdir -p "${mirror}"
/usr/bin/python3 -c 'import sys; from PIL import Image, ImageOps; i = Image.open(sys.argv[1]); ImageOps.mirror(i).save(sys.argv[2])' \
  "${p}/a_copy.png" "${mirror}/a_mirror.png"
cp "${p}/a_copy.png" "${mirror}/a.png"
"${bin}/predict" --run_dir="${run}" --thresholds=none --top_k=80 "${mirror}" > "${TEST_TMPDIR}/plain.jsonl" 2> /dev/null \
  || fail "predict without --tta failed"
"${bin}/predict" --run_dir="${run}" --thresholds=none --top_k=80 --tta=flip "${mirror}" > "${TEST_TMPDIR}/flip.jsonl" \
  2> "${TEST_TMPDIR}/flip.err" || { cat "${TEST_TMPDIR}/flip.err"; fail "predict --tta=flip failed"; }
check_jsonl "${TEST_TMPDIR}/flip.jsonl" "${mirror}/a.png,${mirror}/a_mirror.png" "" 80 0.5 || fail "bad --tta=flip JSON"
/usr/bin/python3 - "${TEST_TMPDIR}/plain.jsonl" "${TEST_TMPDIR}/flip.jsonl" <<'PY' || fail "--tta=flip scores are off"
import json, math, sys
def scores(path):
    return [{i["name"]: i["score"] for i in json.loads(line)["top"]} for line in open(path)]
plain, flip = scores(sys.argv[1]), scores(sys.argv[2])
logit = lambda p: math.log(p / (1 - p))
tol = 5e-6  # 6 significant digits, one rounding each way
for name, score in flip[0].items():
    assert abs(score - flip[1][name]) <= tol, (name, score, flip[1][name])
    if 0 < plain[0][name] < 1 and 0 < plain[1][name] < 1:
        expected = 1 / (1 + math.exp(-(logit(plain[0][name]) + logit(plain[1][name])) / 2))
        assert abs(score - expected) <= tol, (name, score, expected)
print("ok")
PY
rc=0
"${bin}/predict" --run_dir="${run}" --tta=rotate "${p}/a.jpg" > /dev/null 2> "${TEST_TMPDIR}/tta.err" || rc=$?
[[ ${rc} -eq 1 ]] && grep -q "known: none, flip" "${TEST_TMPDIR}/tta.err" || fail "predict --tta=rotate should be refused"
echo PASS
