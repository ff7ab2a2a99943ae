// Test helpers shared by the loss tests: finite-difference gradient checks and the extreme-logit check.
#ifndef LOSSES_TEST_UTIL_H_
#define LOSSES_TEST_UTIL_H_

#include <torch/torch.h>

#include <fstream>
#include <functional>
#include <iterator>
#include <string>

#include "gtest/gtest.h"

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
using LossOfLogitsAndTargets =
    std::function<torch::Tensor(const torch::Tensor& logits, const torch::Tensor& targets)>;
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

// The tensors recorded from PyTorch by testdata/make_loss_fixture.py (keys in its docstring).
class LossFixture {
 public:
  LossFixture() : dict_(Load()) {}
  torch::Tensor operator[](const std::string& key) const {
    TORCH_CHECK(dict_.contains(key), "the loss fixture has no ", key);
    return dict_.at(key).toTensor();
  }

 private:
  static c10::Dict<c10::IValue, c10::IValue> Load() {
    std::ifstream in("losses/testdata/loss_fixture.pt", std::ios::binary);
    TORCH_CHECK(in.good(), "cannot open losses/testdata/loss_fixture.pt");
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return torch::pickle_load(bytes).toGenericDict();
  }

  c10::Dict<c10::IValue, c10::IValue> dict_;
};

}  // namespace losses

#endif  // LOSSES_TEST_UTIL_H_
