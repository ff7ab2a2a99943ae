#include "mobilenet/mobilenet.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include "mobilenet/init.h"
#include "mobilenet/mobilenet_v1.h"
#include "mobilenet/mobilenet_v2.h"

namespace mobilenet {

MobileNetImpl::MobileNetImpl(MobileNetOptions options) : options_(std::move(options)) {
  TORCH_CHECK(options_.num_classes() > 0, "num_classes must be positive, got ", options_.num_classes());
  TORCH_CHECK(options_.width_mult() > 0, "width_mult must be positive, got ", options_.width_mult());
  TORCH_CHECK(options_.dropout() >= 0 && options_.dropout() < 1, "dropout must be in [0, 1), got ", options_.dropout());
  Features built =
      options_.arch() == Arch::kV1 ? BuildMobileNetV1Features(options_) : BuildMobileNetV2Features(options_);
  feature_channels_ = built.out_channels;
  features = register_module("features", built.layers);
  classifier = register_module("classifier",
                               torch::nn::Sequential(torch::nn::Dropout(options_.dropout()),
                                                     torch::nn::Linear(feature_channels_, options_.num_classes())));
  InitializeWeights(*this, options_.init());
}

torch::Tensor MobileNetImpl::forward(torch::Tensor images) {
  torch::Tensor pooled = torch::adaptive_avg_pool2d(features->forward(images), {1, 1});
  return classifier->forward(pooled.flatten(1));
}

torch::Tensor MobileNetImpl::ForwardTraced(torch::Tensor images, const LeafCallback& on_leaf) {
  torch::Tensor x = ForwardSequentialTraced(*features, images, "features", on_leaf);
  x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  return ForwardSequentialTraced(*classifier, x, "classifier", on_leaf);
}

}  // namespace mobilenet
