#!/usr/bin/python3
"""scikit-learn side of //metrics:metrics_benchmark: times the same metrics on the arrays the benchmark wrote.

    /usr/bin/python3 metrics/metrics_benchmark_sklearn.py ARRAYS_FILE NUM_SAMPLES NUM_CLASSES REPS

ARRAYS_FILE holds NUM_SAMPLES x NUM_CLASSES float32 logits then as many uint8 targets, row-major, native byte order.
Prints "sklearn_metrics_seconds S" and "sklearn_tuning_seconds S" (medians over REPS). Debian's python3-sklearn 1.2.
"""
import statistics
import sys
import time

import numpy as np
from sklearn.metrics import (accuracy_score, average_precision_score, f1_score, hamming_loss,
                             precision_recall_curve, precision_recall_fscore_support, precision_score, recall_score)


def all_metrics(logits, targets, top_k=3, threshold=0.5):
    """What MultilabelAccumulator::Compute reports, except the VOC AP, which scikit-learn does not have."""
    probabilities = 1.0 / (1.0 + np.exp(-logits))
    results = {}
    for name, predictions in (("all", probabilities >= threshold), ("top", None)):
        if predictions is None:
            top = np.argsort(-logits, axis=1, kind="stable")[:, :top_k]
            mask = np.zeros(logits.shape, dtype=bool)
            np.put_along_axis(mask, top, True, axis=1)
            predictions = mask & (probabilities >= threshold)
        predictions = predictions.astype(np.uint8)
        for average in ("micro", "macro"):
            results[name, "P", average] = precision_score(targets, predictions, average=average, zero_division=0)
            results[name, "R", average] = recall_score(targets, predictions, average=average, zero_division=0)
            results[name, "F1", average] = f1_score(targets, predictions, average=average, zero_division=0)
        if name == "all":
            results["per_class"] = precision_recall_fscore_support(targets, predictions, average=None, zero_division=0)
            results["hamming"] = hamming_loss(targets, predictions)
            results["subset"] = accuracy_score(targets, predictions)
            results["label_accuracy"] = accuracy_score(targets.ravel(), predictions.ravel())
    has_positives = targets.sum(axis=0) > 0
    results["ap"] = average_precision_score(targets[:, has_positives], logits[:, has_positives], average=None)
    return results


def tune(logits, targets):
    thresholds = []
    for j in range(logits.shape[1]):
        precision, recall, cut = precision_recall_curve(targets[:, j], logits[:, j])
        f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
        thresholds.append(cut[min(int(np.argmax(f1)), len(cut) - 1)])
    return thresholds


def median_seconds(function, reps):
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    path, n, c, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    raw = np.fromfile(path, dtype=np.uint8)
    logits = raw[: n * c * 4].view(np.float32).reshape(n, c)
    targets = raw[n * c * 4:].reshape(n, c).astype(np.int64)
    print("sklearn_metrics_seconds", median_seconds(lambda: all_metrics(logits, targets), reps))
    print("sklearn_tuning_seconds", median_seconds(lambda: tune(logits, targets), reps))


if __name__ == "__main__":
    main()
