#include "trainer/optim/ema.h"

#include <c10/util/Exception.h>

namespace trainer {
namespace {

template <typename Visit>
void ForEachPair(const torch::nn::Module& model, torch::nn::Module& shadow, Visit visit) {
  auto model_params = model.named_parameters();
  auto shadow_params = shadow.named_parameters();
  for (const auto& item : model_params) {
    torch::Tensor* target = shadow_params.find(item.key());
    TORCH_CHECK(target != nullptr, "EMA shadow has no parameter ", item.key());
    visit(*target, item.value());
  }
  auto model_buffers = model.named_buffers();
  auto shadow_buffers = shadow.named_buffers();
  for (const auto& item : model_buffers) {
    torch::Tensor* target = shadow_buffers.find(item.key());
    TORCH_CHECK(target != nullptr, "EMA shadow has no buffer ", item.key());
    visit(*target, item.value());
  }
}

}  // namespace

void WeightEma::Reset(const torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  ForEachPair(model, *shadow_, [](torch::Tensor& shadow, const torch::Tensor& value) { shadow.copy_(value); });
}

void WeightEma::Update(const torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  const double decay = decay_;
  ForEachPair(model, *shadow_, [decay](torch::Tensor& shadow, const torch::Tensor& value) {
    if (shadow.is_floating_point()) {
      shadow.mul_(decay).add_(value.detach(), 1.0 - decay);
    } else {
      shadow.copy_(value);
    }
  });
}

}  // namespace trainer
