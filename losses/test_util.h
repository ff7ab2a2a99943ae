// Test helpers shared by the loss tests: finite-difference gradient checks, the extreme-logit check and the checks of
// unlabelled (-1) target entries.
#ifndef LOSSES_TEST_UTIL_H_
#define LOSSES_TEST_UTIL_H_

#include <torch/torch.h>

#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "losses/common.h"

namespace losses {

// A loss of the logits alone (targets bound); any shape of result, the helpers sum it to a scalar.
using LossOfLogits = std::function<torch::Tensor(const torch::Tensor& logits)>;

// Largest |autograd - central difference| over the gradient of loss(logits).sum(), in float64. The losses keep
// float64 when given float64, so this measures the gradient itself, not fp32 rounding.
inline double MaxFiniteDifferenceError(const LossOfLogits& loss, const torch::Tensor& logits, double step = 1e-6) {
  const torch::Tensor x = logits.to(torch::kDouble).detach().clone().requires_grad_(true);
  loss(x).sum().backward();
  const torch::Tensor analytic = x.grad();
  double max_error = 0;
  torch::NoGradGuard no_grad;
  const torch::Tensor base = x.detach();
  for (int64_t i = 0; i < base.numel(); ++i) {
    torch::Tensor plus = base.clone();
    torch::Tensor minus = base.clone();
    plus.view(-1)[i] += step;
    minus.view(-1)[i] -= step;
    const double numeric = (loss(plus).sum().item<double>() - loss(minus).sum().item<double>()) / (2 * step);
    max_error = std::max(max_error, std::abs(numeric - analytic.view(-1)[i].item<double>()));
  }
  return max_error;
}

// Random logits [N, C] with entries of +-100 and +-20 on both kinds of target, and matching 0/1 targets.
inline std::pair<torch::Tensor, torch::Tensor> ExtremeCase() {
  torch::manual_seed(7);
  torch::Tensor logits = torch::randn({4, 6}, torch::kDouble) * 3;
  torch::Tensor targets = (torch::rand({4, 6}, torch::kDouble) < 0.5).to(torch::kDouble);
  logits.index_put_({0}, torch::tensor({100.0, -100.0, 100.0, -100.0, 20.0, -20.0}, torch::kDouble));
  targets.index_put_({0}, torch::tensor({1.0, 1.0, 0.0, 0.0, 1.0, 0.0}, torch::kDouble));
  logits.index_put_({1}, torch::tensor({-20.0, 20.0, 100.0, -100.0, 100.0, -100.0}, torch::kDouble));
  targets.index_put_({1}, torch::tensor({1.0, 0.0, 1.0, 1.0, 0.0, 0.0}, torch::kDouble));
  return {logits, targets};
}

// The loss of ExtremeCase() in float32, bfloat16 and float16 is finite, computed in float32, and so is its
// gradient.
using LossOfLogitsAndTargets = std::function<torch::Tensor(const torch::Tensor& logits, const torch::Tensor& targets)>;
inline void ExpectFiniteAtExtremeLogits(const LossOfLogitsAndTargets& loss) {
  const auto [logits, targets] = ExtremeCase();
  for (const torch::ScalarType type : {torch::kFloat, torch::kBFloat16, torch::kHalf}) {
    const torch::Tensor x = logits.to(type).requires_grad_(true);
    const torch::Tensor value = loss(x, targets.to(type));
    EXPECT_EQ(value.scalar_type(), torch::kFloat) << type;
    EXPECT_TRUE(torch::isfinite(value).all().item<bool>()) << type << ": " << value;
    value.sum().backward();
    EXPECT_TRUE(torch::isfinite(x.grad()).all().item<bool>()) << type << ": " << x.grad();
  }
}

// Float64 logits [4, 5] and targets with unlabelled (-1) entries: three scattered ones, all of row 3 and all of
// column 4. Two unlabelled logits are +-100, which must leak no inf or NaN into the loss or its gradient.
inline std::pair<torch::Tensor, torch::Tensor> PartlyLabelledCase() {
  torch::manual_seed(13);
  torch::Tensor logits = torch::randn({4, 5}, torch::kDouble) * 2;
  logits[0][2] = 100.0;
  logits[3][0] = -100.0;
  const torch::Tensor targets = torch::tensor({{1.0, 0.0, -1.0, 1.0, -1.0},
                                               {0.0, -1.0, 1.0, 0.0, -1.0},
                                               {1.0, 1.0, 0.0, -1.0, -1.0},
                                               {-1.0, -1.0, -1.0, -1.0, -1.0}},
                                              torch::kDouble);
  return {logits, targets};
}

// On PartlyLabelledCase() the unlabelled entries get exactly zero gradient, and the labelled ones a finite gradient
// that matches central finite differences.
inline void ExpectZeroGradientOnUnlabelledEntries(const LossOfLogitsAndTargets& loss) {
  constexpr double kFiniteDifferenceTol = 1e-7;
  torch::Tensor logits, targets;  // not a structured binding: the lambda below captures targets
  std::tie(logits, targets) = PartlyLabelledCase();
  const torch::Tensor x = logits.clone().requires_grad_(true);
  loss(x, targets).sum().backward();
  EXPECT_TRUE(torch::isfinite(x.grad()).all().item<bool>()) << x.grad();
  EXPECT_EQ(x.grad().masked_select(targets < 0).abs().max().item<double>(), 0.0) << x.grad();
  EXPECT_LT(MaxFiniteDifferenceError([&](const torch::Tensor& z) { return loss(z, targets); }, logits),
            kFiniteDifferenceTol);
}

// A batch whose every entry is unlabelled gives a loss of exactly 0 (not NaN) that is still connected to the logits
// (so backward() works) and gives them zero gradient.
inline void ExpectZeroLossWhenNothingIsLabelled(const LossOfLogitsAndTargets& loss) {
  const torch::Tensor x = torch::randn({4, 5}, torch::kDouble).requires_grad_(true);  // PartlyLabelledCase's shape
  const torch::Tensor value = loss(x, torch::full({4, 5}, -1.0, torch::kDouble));
  ASSERT_TRUE(value.requires_grad());
  EXPECT_EQ(value.abs().max().item<double>(), 0.0) << value;
  value.sum().backward();
  EXPECT_EQ(x.grad().abs().max().item<double>(), 0.0) << x.grad();
}

// For an elementwise loss Loss built from `options`, on PartlyLabelledCase(): kNone is the kNone loss of the targets
// with the unlabelled entries made 0, zeroed where unlabelled; kSum is the sum of that loss over the labelled entries
// and kMean its mean over them.
template <typename Loss, typename Options>
void ExpectReductionsCountOnlyLabelledEntries(Options options) {
  constexpr double kTol = 1e-12;
  const auto [logits, targets] = PartlyLabelledCase();
  const torch::Tensor labelled = targets >= 0;
  const torch::Tensor every_entry = Loss(options.reduction(Reduction::kNone))(logits, targets.clamp_min(0));
  const torch::Tensor over_labelled = every_entry.masked_select(labelled);
  // Held as torch::Tensor so that item<double>() is not a dependent template name.
  const torch::Tensor none = Loss(options.reduction(Reduction::kNone))(logits, targets);
  const torch::Tensor sum = Loss(options.reduction(Reduction::kSum))(logits, targets);
  const torch::Tensor mean = Loss(options.reduction(Reduction::kMean))(logits, targets);
  EXPECT_TRUE(torch::allclose(none, torch::where(labelled, every_entry, torch::zeros_like(every_entry)), 0, kTol));
  EXPECT_NEAR(sum.item<double>(), over_labelled.sum().item<double>(), kTol);
  EXPECT_NEAR(mean.item<double>(), over_labelled.mean().item<double>(), kTol);
}

// The tensors recorded from PyTorch by a script in testdata/: by default loss_fixture.pt from make_loss_fixture.py
// (keys in each script's docstring).
class LossFixture {
 public:
  explicit LossFixture(std::string path = "losses/testdata/loss_fixture.pt") : path_(std::move(path)), dict_(Load()) {}
  torch::Tensor operator[](const std::string& key) const {
    TORCH_CHECK(dict_.contains(key), path_, " has no ", key);
    return dict_.at(key).toTensor();
  }

 private:
  c10::Dict<c10::IValue, c10::IValue> Load() const {
    std::ifstream in(path_, std::ios::binary);
    TORCH_CHECK(in.good(), "cannot open ", path_);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return torch::pickle_load(bytes).toGenericDict();
  }

  std::string path_;
  c10::Dict<c10::IValue, c10::IValue> dict_;
};

}  // namespace losses

#endif  // LOSSES_TEST_UTIL_H_
