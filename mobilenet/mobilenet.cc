#include "mobilenet/mobilenet.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include <utility>

#include "mobilenet/init.h"
#include "mobilenet/mobilenet_v1.h"
#include "mobilenet/mobilenet_v2.h"

namespace mobilenet {

namespace {

// The classifier's two layers, checked to be Sequential(Dropout, Linear).
std::pair<torch::nn::DropoutImpl*, torch::nn::LinearImpl*> ClassifierLayers(torch::nn::Sequential& classifier) {
  auto* dropout = classifier[0]->as<torch::nn::Dropout>();
  auto* linear = classifier[1]->as<torch::nn::Linear>();
  TORCH_CHECK(classifier->size() == 2 && dropout != nullptr && linear != nullptr,
              "the classifier must be Sequential(Dropout, Linear)");
  return {dropout, linear};
}

}  // namespace

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
  torch::Tensor map = features->forward(images);
  if (options_.max_pool_weight() > 0) return SpatialClassifierLogits(map, "classifier", nullptr);
  return ClassifierLogits(torch::adaptive_avg_pool2d(map, {1, 1}).flatten(1), "classifier", nullptr);
}

torch::Tensor MobileNetImpl::SpatialClassifierLogits(torch::Tensor map, const std::string& prefix,
                                                     const LeafCallback* on_leaf) {
  auto [dropout, linear] = ClassifierLayers(classifier);
  const int64_t classes = linear->weight.size(0), channels = linear->weight.size(1);
  map = dropout->forward(map);
  if (on_leaf != nullptr) (*on_leaf)(prefix + ".0", *dropout, map);
  const torch::Tensor scores = at::conv2d(map, linear->weight.view({classes, channels, 1, 1}));
  const torch::Tensor logits = scores.mean({2, 3}) + options_.max_pool_weight() * scores.amax({2, 3}) + linear->bias;
  if (on_leaf != nullptr) (*on_leaf)(prefix + ".1", *linear, logits);
  return logits;
}

torch::Tensor MobileNetImpl::ForwardTraced(torch::Tensor images, const LeafCallback& on_leaf) {
  torch::Tensor x = ForwardSequentialTraced(*features, images, "features", on_leaf);
  if (options_.max_pool_weight() > 0) return SpatialClassifierLogits(x, "classifier", &on_leaf);
  x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  return ClassifierLogits(x, "classifier", &on_leaf);
}

torch::Tensor MobileNetImpl::ClassifierLogits(torch::Tensor pooled, const std::string& prefix,
                                              const LeafCallback* on_leaf) {
  auto [dropout, linear] = ClassifierLayers(classifier);
  torch::Tensor x = dropout->forward(pooled);
  if (on_leaf != nullptr) (*on_leaf)(prefix + ".0", *dropout, x);
  const int64_t classes = linear->weight.size(0), channels = linear->weight.size(1);
  x = options_.classifier_convolution()
          ? at::conv2d(x.reshape({x.size(0), channels, 1, 1}), linear->weight.view({classes, channels, 1, 1}),
                       linear->bias)
                .view({x.size(0), classes})
          : linear->forward(x);
  if (on_leaf != nullptr) (*on_leaf)(prefix + ".1", *linear, x);
  return x;
}

}  // namespace mobilenet
