#include "losses/class_weights.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/status/status.h"

namespace losses {
namespace {

absl::Status Validate(const LabelCounts& counts) {
  if (counts.num_samples <= 0) {
    return absl::InvalidArgumentError("label counts: num_samples must be > 0, got " +
                                      std::to_string(counts.num_samples));
  }
  if (counts.positives.empty()) return absl::InvalidArgumentError("label counts: positives is empty (no classes)");
  for (size_t c = 0; c < counts.positives.size(); ++c) {
    if (counts.positives[c] < 0 || counts.positives[c] > counts.num_samples) {
      return absl::InvalidArgumentError("label counts: positives[" + std::to_string(c) + "] is " +
                                        std::to_string(counts.positives[c]) +
                                        ", must be in [0, num_samples = " + std::to_string(counts.num_samples) + "]");
    }
  }
  if (counts.labelled.empty()) return absl::OkStatus();
  if (counts.labelled.size() != counts.positives.size()) {
    return absl::InvalidArgumentError("label counts: labelled has " + std::to_string(counts.labelled.size()) +
                                      " classes but positives has " + std::to_string(counts.positives.size()));
  }
  for (size_t c = 0; c < counts.labelled.size(); ++c) {
    if (counts.labelled[c] < counts.positives[c] || counts.labelled[c] > counts.num_samples) {
      return absl::InvalidArgumentError("label counts: labelled[" + std::to_string(c) + "] is " +
                                        std::to_string(counts.labelled[c]) + ", must be in [positives[" +
                                        std::to_string(c) + "] = " + std::to_string(counts.positives[c]) +
                                        ", num_samples = " + std::to_string(counts.num_samples) + "]");
    }
  }
  return absl::OkStatus();
}

// The number of true entries of each column of a bool [N, C] tensor.
std::vector<int64_t> CountPerClass(const at::Tensor& entries) {
  const at::Tensor per_class = entries.sum(0).to(at::kLong).contiguous().cpu();
  return std::vector<int64_t>(per_class.data_ptr<int64_t>(), per_class.data_ptr<int64_t>() + per_class.numel());
}

}  // namespace

LabelCounts CountLabels(const at::Tensor& targets) {
  TORCH_CHECK(targets.dim() == 2, "CountLabels expects targets [N, C], got ", targets.sizes());
  LabelCounts counts;
  counts.num_samples = targets.size(0);
  counts.positives = CountPerClass(targets > 0.5);
  counts.labelled = CountPerClass(targets >= 0);
  return counts;
}

absl::StatusOr<at::Tensor> ClassBalancedWeights(const LabelCounts& counts, double beta) {
  if (const absl::Status status = Validate(counts); !status.ok()) return status;
  if (!(beta >= 0.0 && beta < 1.0)) {
    return absl::InvalidArgumentError("class_balanced.beta must be in [0, 1), got " + std::to_string(beta));
  }
  const size_t num_classes = counts.positives.size();
  std::vector<double> weights(num_classes);
  double total = 0.0;
  for (size_t c = 0; c < num_classes; ++c) {
    const double n = static_cast<double>(std::max<int64_t>(counts.positives[c], 1));
    weights[c] = (1.0 - beta) / (1.0 - std::pow(beta, n));
    total += weights[c];
  }
  at::Tensor result = at::empty({static_cast<int64_t>(num_classes)}, at::kFloat);
  for (size_t c = 0; c < num_classes; ++c) {
    result[c] = static_cast<float>(weights[c] * static_cast<double>(num_classes) / total);
  }
  return result;
}

absl::StatusOr<at::Tensor> PosWeightFromCounts(const LabelCounts& counts) {
  if (const absl::Status status = Validate(counts); !status.ok()) return status;
  const int64_t num_classes = static_cast<int64_t>(counts.positives.size());
  at::Tensor result = at::empty({num_classes}, at::kFloat);
  for (int64_t c = 0; c < num_classes; ++c) {
    const int64_t labelled = counts.labelled.empty() ? counts.num_samples : counts.labelled[c];
    const int64_t positives = std::max<int64_t>(counts.positives[c], 1);
    const int64_t negatives = std::max<int64_t>(labelled - counts.positives[c], 1);
    result[c] = static_cast<float>(static_cast<double>(negatives) / static_cast<double>(positives));
  }
  return result;
}

}  // namespace losses
