#!/bin/bash
# End to end: trains a tiny model on two synthetic sources in different export layouts (Roboflow and labelme) given
# with --train/--val, then on a Roboflow tree found by --data_root; checks the label space, the mapping table and
# classes.txt written into the run directory, and that evaluate reads the run back. Then a LIST label space whose
# file changes under a finished run: evaluate, --resume and fine-tuning refuse the other classes (fine-tuning
# re-initialises the classifier when allowed). A VOC-named source labelling three classes checks the masking of
# the classes it never labels and the per-source validation metrics.
set -euo pipefail
bin="${TEST_SRCDIR}/coco_multilabel"
fail() { echo "FAIL: $*" >&2; exit 1; }
common=(--config=baseline_bce --threads=1
        --override='data { resolution: 32 loader_threads: 1 } model { width_mult: 0.25 } training { epochs: 1 batch_size: 8 }')

make() {  # make LAYOUT SEED
  "${bin}/data/make_synthetic_coco" --out="${TEST_TMPDIR}/$1" --layout="$1" --seed="$2" --train_images=24 \
    --val_images=8 --image_size=32 --threads=1 > /dev/null 2>&1 || fail "make_synthetic_coco --layout=$1 failed"
}
make roboflow 1
make labelme 2

run="${TEST_TMPDIR}/two_sources"
"${bin}/trainer/train" "${common[@]}" --run_dir="${run}" \
  --train="${TEST_TMPDIR}/roboflow/train/_annotations.coco.json" \
  --train "${TEST_TMPDIR}/labelme/train/annotations.json:${TEST_TMPDIR}/labelme/train" \
  --val="${TEST_TMPDIR}/roboflow/valid/_annotations.coco.json" > "${TEST_TMPDIR}/train.log" 2>&1 \
  || { cat "${TEST_TMPDIR}/train.log"; fail "training on two sources failed"; }
grep -q "Label space: COCO80 (auto" "${TEST_TMPDIR}/train.log" || { cat "${TEST_TMPDIR}/train.log"; fail "no label space line"; }
grep -q "train:train/annotations.json: _background_ (id 0, 0 annotations) -> dropped: unused" "${TEST_TMPDIR}/train.log" \
  || { cat "${TEST_TMPDIR}/train.log"; fail "the unused labelme category is not listed"; }
grep -q "train:train/_annotations.coco.json: objects (id 0, 0 annotations) -> dropped: unused" "${TEST_TMPDIR}/train.log" \
  || fail "the unused Roboflow category is not listed"
# 10 % of the 48 training images (5) are held out for calibration, each source giving its share (cumulative
# rounding: 3 and 2).
grep -q "2 train and 1 val sources; train train/_annotations.coco.json (21 images + 3 for calibration); train train/annotations.json (22 images + 2 for calibration)" \
  "${TEST_TMPDIR}/train.log" || fail "the data line does not list both training sources and their calibration shares"
[[ $(wc -l < "${run}/classes.txt") -eq 80 ]] || fail "classes.txt should list the 80 COCO classes"
[[ $(head -1 "${run}/classes.txt") == person ]] || fail "classes.txt should start with person"
# 81 categories in each of the 3 sources, plus the header.
[[ $(wc -l < "${run}/label_mapping.tsv") -eq 244 ]] || fail "label_mapping.tsv should have 3 x 81 rows"
grep -q "$(printf 'val:valid/_annotations.coco.json\tperson\t1\t0 person\t')" "${run}/label_mapping.tsv" \
  || fail "person of the val source should map to class 0"
grep -q 'annotations: ".*labelme/train/annotations.json"' "${run}/config.pbtxt" \
  || fail "the --train sources should be part of the resolved config"
"${bin}/trainer/evaluate" --run_dir="${run}" > "${TEST_TMPDIR}/evaluate.txt" 2>&1 \
  || { cat "${TEST_TMPDIR}/evaluate.txt"; fail "evaluate of the two-source run failed"; }
grep -q "8 images" "${TEST_TMPDIR}/evaluate.txt" || fail "evaluate did not read the 8 val images"

# A VOC-named source that labels only three classes (aeroplane, person, sofa), made from 8 of the labelme images:
# the other 77 COCO classes are masked out of its loss and metrics, and both validation sources get their own
# metrics in the log, metrics.jsonl, report.md and evaluate's output.
voc="${TEST_TMPDIR}/voc.json"
{
  echo '{"categories": [{"id": 1, "name": "aeroplane"}, {"id": 2, "name": "person"}, {"id": 3, "name": "sofa"}],'
  echo ' "images": ['
  i=0
  for image in $(ls "${TEST_TMPDIR}"/labelme/train/JPEGImages/*.jpg | head -8); do
    i=$((i + 1)); [[ $i -gt 1 ]] && echo ','
    echo "{\"id\": $i, \"file_name\": \"$(basename "${image}")\", \"width\": 32, \"height\": 32}"
  done
  echo '], "annotations": ['
  for j in $(seq 1 8); do
    [[ $j -gt 1 ]] && echo ','
    echo "{\"id\": $j, \"image_id\": $j, \"category_id\": $((j % 2 + 1)), \"bbox\": [0, 0, 8, 8], \"area\": 64}"
  done
  echo ']}'
} > "${voc}"
run="${TEST_TMPDIR}/masked"
"${bin}/trainer/train" "${common[@]}" --run_dir="${run}" \
  --train="${TEST_TMPDIR}/roboflow/train/_annotations.coco.json" --train="${voc}:${TEST_TMPDIR}/labelme/train/JPEGImages" \
  --val="${TEST_TMPDIR}/roboflow/valid/_annotations.coco.json" --val="${voc}:${TEST_TMPDIR}/labelme/train/JPEGImages" \
  > "${TEST_TMPDIR}/masked.log" 2>&1 || { cat "${TEST_TMPDIR}/masked.log"; fail "training with a partly labelled source failed"; }
grep -q "train:.*voc.json: 77 of 80 classes never labelled: bicycle, car, motorcycle," "${TEST_TMPDIR}/masked.log" \
  || { cat "${TEST_TMPDIR}/masked.log"; fail "the classes the VOC source never labels are not listed"; }
grep -q "  val .*voc.json (8 images): mAP" "${TEST_TMPDIR}/masked.log" \
  || { cat "${TEST_TMPDIR}/masked.log"; fail "no per-source validation line"; }
grep -q '"kind": "val/.*voc.json"' "${run}/metrics.jsonl" || fail "metrics.jsonl has no per-source record"
grep -q "^| .*voc.json | 8 | .* | 77 |$" "${run}/report.md" || { cat "${run}/report.md"; fail "report.md has no per-source row"; }
grep -q "^| all sources | 16 | .* | 0 |$" "${run}/report.md" || fail "report.md has no combined row"
"${bin}/trainer/evaluate" --run_dir="${run}" > "${TEST_TMPDIR}/evaluate_masked.txt" 2>&1 \
  || { cat "${TEST_TMPDIR}/evaluate_masked.txt"; fail "evaluate of the partly labelled run failed"; }
grep -q "Source .*voc.json (8 images, 77 classes never labelled, left out): mAP" "${TEST_TMPDIR}/evaluate_masked.txt" \
  || { cat "${TEST_TMPDIR}/evaluate_masked.txt"; fail "evaluate does not show the sources"; }

# The same sources in the config itself, the labelme one with weight 2: 21 + 2 x 22 = 65 images per epoch (the
# calibration images are not trained on).
weighted="data { resolution: 32 loader_threads: 1
                 train { annotations: \"${TEST_TMPDIR}/roboflow/train/_annotations.coco.json\" }
                 train { annotations: \"${TEST_TMPDIR}/labelme/train/annotations.json\" weight: 2 name: \"lm\" }
                 val { annotations: \"${TEST_TMPDIR}/roboflow/valid/_annotations.coco.json\" } }
          model { width_mult: 0.25 } training { epochs: 1 batch_size: 8 }"
"${bin}/trainer/train" --config=baseline_bce --threads=1 --override="${weighted}" --run_dir="${TEST_TMPDIR}/weighted" \
  > "${TEST_TMPDIR}/weighted.log" 2>&1 || { cat "${TEST_TMPDIR}/weighted.log"; fail "weighted training failed"; }
grep -q "22 of 43 training images shown other than once, about 65 images per epoch" "${TEST_TMPDIR}/weighted.log" \
  || { cat "${TEST_TMPDIR}/weighted.log"; fail "the source weight is not applied"; }
grep -q "train lm (22 images + 2 for calibration, weight 2" "${TEST_TMPDIR}/weighted.log" \
  || fail "the weighted source is not described"
# max_train_images keeps images of every source in proportion (then 1 of the 10 is held out for calibration);
# --train/--val replace the config's sources.
"${bin}/trainer/train" --config=baseline_bce --threads=1 --run_dir="${TEST_TMPDIR}/limited" \
  --override="${weighted/resolution: 32/resolution: 32 max_train_images: 10}" \
  > "${TEST_TMPDIR}/limited.log" 2>&1 || { cat "${TEST_TMPDIR}/limited.log"; fail "limited training failed"; }
grep -q "train train/_annotations.coco.json (4 images + 1 for calibration); train lm (5 images, weight 2" "${TEST_TMPDIR}/limited.log" \
  || { cat "${TEST_TMPDIR}/limited.log"; fail "max_train_images should keep 5 images of each source"; }
"${bin}/trainer/train" --config=baseline_bce --threads=1 --run_dir="${TEST_TMPDIR}/replaced" --override="${weighted}" \
  --train="${TEST_TMPDIR}/labelme/train/annotations.json" --val="${TEST_TMPDIR}/labelme/val/annotations.json" \
  > "${TEST_TMPDIR}/replaced.log" 2>&1 || { cat "${TEST_TMPDIR}/replaced.log"; fail "--train over config sources failed"; }
grep -q "Data: 1 train and 1 val sources" "${TEST_TMPDIR}/replaced.log" \
  || { cat "${TEST_TMPDIR}/replaced.log"; fail "--train/--val should replace the config's sources"; }

"${bin}/trainer/train" "${common[@]}" --run_dir="${TEST_TMPDIR}/root" --data_root="${TEST_TMPDIR}/roboflow" \
  > "${TEST_TMPDIR}/root.log" 2>&1 || { cat "${TEST_TMPDIR}/root.log"; fail "training with --data_root failed"; }
grep -q "Data: Roboflow layout at ${TEST_TMPDIR}/roboflow" "${TEST_TMPDIR}/root.log" || fail "layout not reported"
grep -q "root: \"${TEST_TMPDIR}/roboflow\"" "${TEST_TMPDIR}/root/config.pbtxt" || fail "--data_root is not in the config"
"${bin}/trainer/evaluate" --run_dir="${TEST_TMPDIR}/root" > "${TEST_TMPDIR}/evaluate_root.txt" 2>&1 \
  || { cat "${TEST_TMPDIR}/evaluate_root.txt"; fail "evaluate of a --data_root run failed"; }
grep -q "Data: Roboflow layout at ${TEST_TMPDIR}/roboflow (val, 8 images)" "${TEST_TMPDIR}/evaluate_root.txt" \
  || { cat "${TEST_TMPDIR}/evaluate_root.txt"; fail "evaluate does not find the run's --data_root"; }

"${bin}/trainer/train" "${common[@]}" --run_dir="${TEST_TMPDIR}/bad" --data_root="${TEST_TMPDIR}/labelme" \
  > "${TEST_TMPDIR}/bad.log" 2>&1 && fail "a labelme tree is not a --data_root layout"
grep -q "no known dataset layout" "${TEST_TMPDIR}/bad.log" || { cat "${TEST_TMPDIR}/bad.log"; fail "no layout error"; }
"${bin}/trainer/train" "${common[@]}" --run_dir="${TEST_TMPDIR}/bad2" \
  --train="${TEST_TMPDIR}/roboflow/train/_annotations.coco.json" > "${TEST_TMPDIR}/bad2.log" 2>&1 \
  && fail "--train without --val was accepted"
grep -q "data.val is empty but data.train is set" "${TEST_TMPDIR}/bad2.log" || { cat "${TEST_TMPDIR}/bad2.log"; fail "no val error"; }
# Sources are told apart by name: a default name two sources share becomes their paths; one file twice is an error.
cp -r "${TEST_TMPDIR}/roboflow" "${TEST_TMPDIR}/roboflow2"
"${bin}/trainer/train" "${common[@]}" --run_dir="${TEST_TMPDIR}/same_names" \
  --train="${TEST_TMPDIR}/roboflow/train/_annotations.coco.json" --train="${TEST_TMPDIR}/roboflow2/train/_annotations.coco.json" \
  --val="${TEST_TMPDIR}/roboflow/valid/_annotations.coco.json" --val="${TEST_TMPDIR}/roboflow2/valid/_annotations.coco.json" \
  > "${TEST_TMPDIR}/same_names.log" 2>&1 || { cat "${TEST_TMPDIR}/same_names.log"; fail "two sources with one default name failed"; }
grep -q "  val ${TEST_TMPDIR}/roboflow2/valid/_annotations.coco.json (8 images): mAP" "${TEST_TMPDIR}/same_names.log" \
  || { cat "${TEST_TMPDIR}/same_names.log"; fail "sources sharing a default name are not told apart"; }
"${bin}/trainer/train" "${common[@]}" --run_dir="${TEST_TMPDIR}/twice" \
  --train="${TEST_TMPDIR}/roboflow/train/_annotations.coco.json" --train="${TEST_TMPDIR}/roboflow/train/_annotations.coco.json" \
  --val="${TEST_TMPDIR}/roboflow/valid/_annotations.coco.json" > "${TEST_TMPDIR}/twice.log" 2>&1 \
  && fail "one training file listed twice was accepted"
grep -q "data.train lists ${TEST_TMPDIR}/roboflow/train/_annotations.coco.json twice" "${TEST_TMPDIR}/twice.log" \
  || { cat "${TEST_TMPDIR}/twice.log"; fail "no error for a file listed twice"; }
# A LIST label space; its file is then edited, so the same config maps the data to other classes.
classes="${TEST_TMPDIR}/classes.txt"
printf '# two classes\nperson\ncar\n' > "${classes}"
base="data { resolution: 32 loader_threads: 1 label_space { kind: LIST list_file: \"${classes}\" drop_unknown: true } }
      model { width_mult: 0.25 } training { epochs: 1 batch_size: 8 }"
list=""
sources=(--train="${TEST_TMPDIR}/roboflow/train/_annotations.coco.json"
         --val="${TEST_TMPDIR}/roboflow/valid/_annotations.coco.json")
run="${TEST_TMPDIR}/list"
"${bin}/trainer/train" --config=baseline_bce --threads=1 --override="${base} ${list}" "${sources[@]}"   --run_dir="${run}" > "${TEST_TMPDIR}/list.log" 2>&1 || { cat "${TEST_TMPDIR}/list.log"; fail "LIST training failed"; }
grep -q "Label space: LIST, 2 classes" "${TEST_TMPDIR}/list.log" || fail "no LIST label space line"
[[ "$(cat "${run}/classes.txt")" == "$(printf 'person\ncar')" ]] || fail "classes.txt should be person, car"
image=$(ls "${TEST_TMPDIR}"/roboflow/valid/*.jpg | head -1)
"${bin}/trainer/predict" --run_dir="${run}" --format=text --thresholds=none --threshold=0 "${image}" > "${TEST_TMPDIR}/predict.txt" \
  2>&1 || { cat "${TEST_TMPDIR}/predict.txt"; fail "predict failed"; }
grep -q "person 0\." "${TEST_TMPDIR}/predict.txt" && grep -q "car 0\." "${TEST_TMPDIR}/predict.txt" \
  || { cat "${TEST_TMPDIR}/predict.txt"; fail "predict should name the run's two classes"; }

printf 'person\ndog\n' > "${classes}"
"${bin}/trainer/evaluate" --run_dir="${run}" > "${TEST_TMPDIR}/evaluate2.txt" 2>&1 \
  && fail "evaluate accepted data mapped to other classes"
grep -q "but the data maps to 2 other ones" "${TEST_TMPDIR}/evaluate2.txt" || { cat "${TEST_TMPDIR}/evaluate2.txt"; fail "no class error from evaluate"; }
"${bin}/trainer/train" --config=baseline_bce --threads=1 --override="${base} ${list}" "${sources[@]}" \
  --run_dir="${run}" --resume > "${TEST_TMPDIR}/resume.log" 2>&1 && fail "--resume accepted other classes"
grep -q "was trained on 2 classes (person, car) but the data now maps to 2 classes (person, dog)" \
  "${TEST_TMPDIR}/resume.log" || { cat "${TEST_TMPDIR}/resume.log"; fail "no class error from --resume"; }
finetune="fine_tune { init_weights: \"${run}/model_best.pt\" allow_partial: false }"
"${bin}/trainer/train" --config=baseline_bce --threads=1 --override="${base} ${list} ${finetune}" "${sources[@]}" \
  --run_dir="${TEST_TMPDIR}/ft" > "${TEST_TMPDIR}/ft.log" 2>&1 && fail "fine-tuning accepted other classes"
grep -q "set fine_tune.allow_partial to re-initialise the classifier" "${TEST_TMPDIR}/ft.log" \
  || { cat "${TEST_TMPDIR}/ft.log"; fail "no class error from fine-tuning"; }
finetune="fine_tune { init_weights: \"${run}/model_best.pt\" allow_partial: true }"
"${bin}/trainer/train" --config=baseline_bce --threads=1 --override="${base} ${list} ${finetune}" "${sources[@]}" \
  --run_dir="${TEST_TMPDIR}/ft2" > "${TEST_TMPDIR}/ft2.log" 2>&1 || { cat "${TEST_TMPDIR}/ft2.log"; fail "allow_partial fine-tuning failed"; }
grep -q "classifier re-initialised: the initial weights were trained on other classes" "${TEST_TMPDIR}/ft2.log" \
  || { cat "${TEST_TMPDIR}/ft2.log"; fail "the classifier re-initialisation is not reported"; }
echo PASS
