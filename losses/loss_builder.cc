#include "losses/loss_builder.h"

#include <cmath>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "losses/asymmetric_loss.h"
#include "losses/bce_loss.h"
#include "losses/focal_loss.h"
#include "losses/poly_loss.h"
#include "losses/soft_f1_loss.h"
#include "losses/softmax_cross_entropy_loss.h"
#include "losses/two_way_loss.h"
#include "tools/cc/status_macros.h"

namespace losses {
namespace {

// "<field> must be <range>, got <value>".
absl::Status OutOfRange(const std::string& field, const std::string& range, double value) {
  std::ostringstream message;
  message << field << " must be " << range << ", got " << value;
  return absl::InvalidArgumentError(message.str());
}

absl::Status CheckAtLeast(const std::string& field, double value, double minimum) {
  if (std::isfinite(value) && value >= minimum) return absl::OkStatus();
  std::ostringstream range;
  range << ">= " << minimum;
  return OutOfRange(field, range.str(), value);
}

absl::Status CheckPositive(const std::string& field, double value) {
  if (std::isfinite(value) && value > 0) return absl::OkStatus();
  return OutOfRange(field, "> 0", value);
}

Reduction ToReduction(LossConfig::Reduction reduction) {
  switch (reduction) {
    case LossConfig::SUM: return Reduction::kSum;
    case LossConfig::NONE: return Reduction::kNone;
    default: return Reduction::kMean;
  }
}

// The class-balanced weights of `config` (under field name `field`), or an undefined tensor when it is not set.
absl::StatusOr<at::Tensor> ClassWeightFor(bool has_config, const ClassBalancedConfig& config, const std::string& field,
                                          const std::optional<LabelCounts>& label_counts) {
  if (!has_config) return at::Tensor();
  if (!label_counts.has_value()) {
    return absl::InvalidArgumentError(field + " needs the per-class positive counts: pass label_counts to BuildLoss");
  }
  if (!(config.beta() >= 0 && config.beta() < 1)) return OutOfRange(field + ".beta", "in [0, 1)", config.beta());
  return ClassBalancedWeights(*label_counts, config.beta());
}

absl::StatusOr<torch::nn::AnyModule> BuildBce(const BceConfig& config, Reduction reduction,
                                              const std::optional<LabelCounts>& label_counts) {
  BceLossOptions options;
  options.reduction(reduction);
  if (config.pos_weight_size() > 0 && config.pos_weight_from_label_counts()) {
    return absl::InvalidArgumentError("bce.pos_weight and bce.pos_weight_from_label_counts are exclusive");
  }
  if (config.pos_weight_size() > 0) {
    for (int c = 0; c < config.pos_weight_size(); ++c) {
      RETURN_IF_ERROR(CheckPositive("bce.pos_weight[" + std::to_string(c) + "]", config.pos_weight(c)));
    }
    if (label_counts.has_value() && static_cast<size_t>(config.pos_weight_size()) != label_counts->positives.size()) {
      return absl::InvalidArgumentError("bce.pos_weight has " + std::to_string(config.pos_weight_size()) +
                                        " entries but the label counts have " +
                                        std::to_string(label_counts->positives.size()) + " classes");
    }
    at::Tensor pos_weight = at::empty({config.pos_weight_size()}, at::kFloat);
    for (int c = 0; c < config.pos_weight_size(); ++c) pos_weight[c] = static_cast<float>(config.pos_weight(c));
    options.pos_weight(pos_weight);
  }
  if (config.pos_weight_from_label_counts()) {
    if (!label_counts.has_value()) {
      return absl::InvalidArgumentError(
          "bce.pos_weight_from_label_counts needs the per-class positive counts: pass label_counts to BuildLoss");
    }
    ASSIGN_OR_RETURN(at::Tensor pos_weight, PosWeightFromCounts(*label_counts));
    options.pos_weight(pos_weight);
  }
  ASSIGN_OR_RETURN(at::Tensor class_weight, ClassWeightFor(config.has_class_balanced(), config.class_balanced(),
                                                           "bce.class_balanced", label_counts));
  options.class_weight(class_weight);
  return torch::nn::AnyModule(BceLoss(options));
}

absl::StatusOr<torch::nn::AnyModule> BuildFocal(const FocalConfig& config, Reduction reduction,
                                                const std::optional<LabelCounts>& label_counts) {
  if (!std::isfinite(config.alpha()) || config.alpha() > 1) {
    return OutOfRange("focal.alpha", "in [0, 1], or negative to disable it", config.alpha());
  }
  RETURN_IF_ERROR(CheckAtLeast("focal.gamma", config.gamma(), 0));
  ASSIGN_OR_RETURN(at::Tensor class_weight, ClassWeightFor(config.has_class_balanced(), config.class_balanced(),
                                                           "focal.class_balanced", label_counts));
  return torch::nn::AnyModule(FocalLoss(
      FocalLossOptions().alpha(config.alpha()).gamma(config.gamma()).reduction(reduction).class_weight(class_weight)));
}

absl::StatusOr<torch::nn::AnyModule> BuildAsymmetric(const AsymmetricConfig& config, Reduction reduction) {
  RETURN_IF_ERROR(CheckAtLeast("asymmetric.gamma_neg", config.gamma_neg(), 0));
  RETURN_IF_ERROR(CheckAtLeast("asymmetric.gamma_pos", config.gamma_pos(), 0));
  if (!(config.clip() >= 0 && config.clip() < 1)) return OutOfRange("asymmetric.clip", "in [0, 1)", config.clip());
  return torch::nn::AnyModule(AsymmetricLoss(AsymmetricLossOptions()
                                                 .gamma_neg(config.gamma_neg())
                                                 .gamma_pos(config.gamma_pos())
                                                 .clip(config.clip())
                                                 .detach_focusing_weight(config.detach_focusing_weight())
                                                 .reduction(reduction)));
}

}  // namespace

absl::StatusOr<torch::nn::AnyModule> BuildLoss(const LossConfig& config,
                                               const std::optional<LabelCounts>& label_counts) {
  const Reduction reduction = ToReduction(config.reduction());
  switch (config.loss_case()) {
    case LossConfig::kBce: return BuildBce(config.bce(), reduction, label_counts);
    case LossConfig::kFocal: return BuildFocal(config.focal(), reduction, label_counts);
    case LossConfig::kAsymmetric: return BuildAsymmetric(config.asymmetric(), reduction);
    case LossConfig::kSoftF1:
      RETURN_IF_ERROR(CheckPositive("soft_f1.epsilon", config.soft_f1().epsilon()));
      return torch::nn::AnyModule(SoftF1Loss(SoftF1LossOptions()
                                                 .average_with_negative_f1(config.soft_f1().average_with_negative_f1())
                                                 .epsilon(config.soft_f1().epsilon())
                                                 .reduction(reduction)));
    case LossConfig::kPoly:
      RETURN_IF_ERROR(CheckAtLeast("poly.epsilon", config.poly().epsilon(), -1));
      return torch::nn::AnyModule(PolyLoss(PolyLossOptions().epsilon(config.poly().epsilon()).reduction(reduction)));
    case LossConfig::kTwoWay:
      RETURN_IF_ERROR(CheckPositive("two_way.tp", config.two_way().tp()));
      RETURN_IF_ERROR(CheckPositive("two_way.tn", config.two_way().tn()));
      if (reduction == Reduction::kNone) {
        return absl::InvalidArgumentError(
            "reduction NONE is not available for two_way (it has no per-element form); "
            "use MEAN or SUM");
      }
      return torch::nn::AnyModule(
          TwoWayLoss(TwoWayLossOptions().tp(config.two_way().tp()).tn(config.two_way().tn()).reduction(reduction)));
    case LossConfig::kSoftmaxCrossEntropy: {
      const double label_smoothing = config.softmax_cross_entropy().label_smoothing();
      if (!(label_smoothing >= 0 && label_smoothing <= 1)) {
        return OutOfRange("softmax_cross_entropy.label_smoothing", "in [0, 1]", label_smoothing);
      }
      return torch::nn::AnyModule(SoftmaxCrossEntropyLoss(
          SoftmaxCrossEntropyLossOptions().label_smoothing(label_smoothing).reduction(reduction)));
    }
    case LossConfig::LOSS_NOT_SET: break;
  }
  return absl::InvalidArgumentError(
      "LossConfig sets no loss: set one of bce, focal, asymmetric, soft_f1, poly, two_way, softmax_cross_entropy");
}

}  // namespace losses
