#!/usr/bin/python3
"""Records scikit-learn reference values for //metrics:sklearn_parity_test into sklearn_fixture.txt (deterministic).

    /usr/bin/python3 metrics/testdata/make_sklearn_fixture.py > metrics/testdata/sklearn_fixture.txt

Uses Debian's python3-sklearn 1.2 and python3-numpy (/usr/bin/python3, not a pyenv python). Every metric comes from
scikit-learn with zero_division=0, except three things scikit-learn does not define, computed here independently of
the C++ code: CF1 (harmonic mean of macro P and R), the ASL / ML-GCN AP (each sample its own rank, ties in stable
order) and the VOC all-point interpolated AP (the devkit's voc_ap), and the per-class F1-maximising thresholds.

Format, whitespace separated: "case NAME", "shape N C", "score_type LOGITS|PROBABILITIES", "threshold T",
"top_k K", "scores" + N rows of C floats, "targets" + N rows of C 0/1, then "value NAME X" and "vector NAME x_0 ..
x_{C-1}" (nan where undefined), and "end".
"""
import fractions
import sys
import warnings

import numpy as np
from sklearn.metrics import (accuracy_score, average_precision_score, f1_score, hamming_loss,
                             precision_recall_curve, precision_recall_fscore_support, precision_score, recall_score)

warnings.simplefilter("ignore")  # scikit-learn warns about classes without positives; we record what it returns.


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x.astype(np.float64)))


def make_data(rng, n, c, positive_rate, separation):
    targets = (rng.random((n, c)) < positive_rate).astype(np.int64)
    logits = rng.normal(-2.0, 1.5, (n, c)) + separation * targets
    return logits, targets


def ranked_ap(scores, targets):
    """ASL / ML-GCN AP with ties in stable (ascending index) order; also the VOC all-point interpolated AP."""
    order = np.argsort(-scores.astype(np.float64), kind="stable")
    hits = targets[order]
    positives = hits.sum()
    if positives == 0:
        return float("nan"), float("nan")
    ranks = np.arange(1, len(hits) + 1)
    precision = np.cumsum(hits) / ranks
    recall = np.cumsum(hits) / positives
    ap = precision[hits == 1].sum() / positives
    # VOC devkit voc_ap: envelope of precision, summed over recall steps.
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([0.0], precision, [0.0]))
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    steps = np.where(mrec[1:] != mrec[:-1])[0]
    voc = np.sum((mrec[steps + 1] - mrec[steps]) * mpre[steps + 1])
    return ap, voc


def top_k_mask(scores, k):
    order = np.argsort(-scores.astype(np.float64), axis=1, kind="stable")[:, :k]
    mask = np.zeros(scores.shape, dtype=bool)
    np.put_along_axis(mask, order, True, axis=1)
    return mask


def tuned_threshold(scores, targets, fallback):
    """Midpoint below the best-F1 cut among distinct scores (highest threshold on equal F1); 0 for 'predict all'."""
    positives = int(targets.sum())
    if positives == 0:
        return fallback
    distinct = np.unique(scores.astype(np.float64))[::-1]
    best, best_index = None, None
    for i, value in enumerate(distinct):
        predicted = scores >= value
        f1 = fractions.Fraction(2 * int(targets[predicted].sum()), int(predicted.sum()) + positives)
        if best is None or f1 > best:
            best, best_index = f1, i
    if best_index == len(distinct) - 1:
        return 0.0
    return 0.5 * (distinct[best_index] + distinct[best_index + 1])


def emit_vector(name, values):
    print("vector", name, " ".join(repr(float(v)) for v in values))


def emit_case(name, scores, targets, score_type, threshold, top_k, class_thresholds=None):
    """Prints a case without its closing "end", so that callers can add vectors of their own."""
    n, c = scores.shape
    print("case", name)
    print("shape", n, c)
    print("score_type", score_type)
    print("threshold", repr(threshold))
    print("top_k", top_k)
    print("scores")
    for row in scores:
        print(" ".join("%.9g" % v for v in row))
    print("targets")
    for row in targets:
        print(" ".join(str(int(v)) for v in row))
    probabilities = sigmoid(scores) if score_type == "LOGITS" else scores.astype(np.float64)
    thresholds = np.full(c, threshold) if class_thresholds is None else class_thresholds
    predictions = (probabilities >= thresholds).astype(np.int64)
    emit_metrics("", targets, predictions)
    emit_metrics("top_k_", targets, predictions * top_k_mask(scores, top_k))
    print("value label_accuracy", repr(accuracy_score(targets.ravel(), predictions.ravel())))
    print("value subset_accuracy", repr(accuracy_score(targets, predictions)))
    print("value hamming_loss", repr(hamming_loss(targets, predictions)))
    has_positives = targets.sum(axis=0) > 0
    sklearn_ap = [average_precision_score(targets[:, j], scores[:, j]) if has_positives[j] else float("nan")
                  for j in range(c)]
    ranked = [ranked_ap(scores[:, j], targets[:, j]) for j in range(c)]
    emit_vector("sklearn_average_precision", sklearn_ap)
    emit_vector("ranked_average_precision", [a for a, _ in ranked])
    emit_vector("voc_average_precision", [v for _, v in ranked])
    print("value num_classes_without_positives", int((~has_positives).sum()))
    print("value sklearn_mean_average_precision", repr(float(np.nanmean(sklearn_ap))))
    emit_vector("support", targets.sum(axis=0))


def emit_metrics(prefix, targets, predictions):
    kw = dict(zero_division=0)
    cp = precision_score(targets, predictions, average="macro", **kw)
    cr = recall_score(targets, predictions, average="macro", **kw)
    print("value %soverall_precision" % prefix, repr(precision_score(targets, predictions, average="micro", **kw)))
    print("value %soverall_recall" % prefix, repr(recall_score(targets, predictions, average="micro", **kw)))
    print("value %soverall_f1" % prefix, repr(f1_score(targets, predictions, average="micro", **kw)))
    print("value %sclass_precision" % prefix, repr(cp))
    print("value %sclass_recall" % prefix, repr(cr))
    print("value %sclass_f1" % prefix, repr(2 * cp * cr / (cp + cr) if cp + cr > 0 else 0.0))
    print("value %smean_class_f1" % prefix, repr(f1_score(targets, predictions, average="macro", **kw)))
    p, r, f, _ = precision_recall_fscore_support(targets, predictions, average=None, **kw)
    emit_vector(prefix + "precision", p)
    emit_vector(prefix + "recall", r)
    emit_vector(prefix + "f1", f)


def main():
    rng = np.random.default_rng(20240501)
    print("# Recorded by metrics/testdata/make_sklearn_fixture.py (see its docstring); do not edit by hand.")

    # Probabilities, no ties; class 7 is never predicted (precision 0/0), class 8 has no positives.
    logits, targets = make_data(rng, 300, 9, 0.2, 3.0)
    logits[:, 7] -= 6.0
    targets[:, 8] = 0
    emit_case("probabilities", sigmoid(logits).astype(np.float32), targets, "PROBABILITIES", 0.5, 3)
    print("end")

    # Logits at a non-default threshold and top-2.
    logits, targets = make_data(rng, 257, 6, 0.3, 2.5)
    emit_case("logits", logits.astype(np.float32), targets, "LOGITS", 0.3, 2)
    print("end")

    # Scores rounded to one decimal: many ties, where scikit-learn's AP (one threshold per distinct score) differs.
    logits, targets = make_data(rng, 120, 5, 0.3, 2.0)
    emit_case("ties", np.round(sigmoid(logits), 1).astype(np.float32), targets, "PROBABILITIES", 0.5, 3)
    print("end")

    # Threshold tuning: tune F1-maximising thresholds on one set, record the metrics they give on another.
    tune_logits, tune_targets = make_data(rng, 400, 6, 0.15, 2.0)
    apply_logits, apply_targets = make_data(rng, 350, 6, 0.15, 2.0)
    tune_targets[:, 5] = 0  # no positives to tune on: keeps the global threshold
    tune_scores = sigmoid(tune_logits).astype(np.float32)
    apply_scores = sigmoid(apply_logits).astype(np.float32)
    tuned = np.array([tuned_threshold(tune_scores[:, j], tune_targets[:, j], 0.5) for j in range(6)])
    best_f1 = []
    for j in range(6):
        if tune_targets[:, j].sum() == 0:
            best_f1.append(0.0)
            continue
        precision, recall, _ = precision_recall_curve(tune_targets[:, j], tune_scores[:, j])
        f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-300), 0.0)
        best_f1.append(f1.max())
    emit_case("tune", tune_scores, tune_targets, "PROBABILITIES", 0.5, 3)
    emit_vector("best_f1", best_f1)
    emit_vector("tuned_threshold", tuned)
    print("end")
    emit_case("apply_tuned", apply_scores, apply_targets, "PROBABILITIES", 0.5, 3, class_thresholds=tuned)
    emit_vector("tuned_threshold", tuned)
    print("end")


if __name__ == "__main__":
    main()
