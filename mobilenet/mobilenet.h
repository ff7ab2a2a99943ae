// The multi-label classifier: a MobileNetV1 or V2 feature extractor, global average pooling, dropout and a Linear
// layer producing logits (no sigmoid: the loss applies it). Module names match torchvision's mobilenet_v2.
#ifndef MOBILENET_MOBILENET_H_
#define MOBILENET_MOBILENET_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include <string>

#include "mobilenet/layers.h"
#include "mobilenet/mobilenet_options.h"

namespace mobilenet {

class MobileNetImpl : public torch::nn::Module {
 public:
  explicit MobileNetImpl(MobileNetOptions options = {});

  // [N, 3, H, W] images -> [N, num_classes] logits.
  torch::Tensor forward(torch::Tensor images);

  // The same computation, calling `on_leaf` after every leaf layer (`features.3.conv.1.0`, ..., `classifier.1`).
  torch::Tensor ForwardTraced(torch::Tensor images, const LeafCallback& on_leaf);

  const MobileNetOptions& options() const { return options_; }
  int64_t feature_channels() const { return feature_channels_; }

  torch::nn::Sequential features{nullptr};
  // Sequential(0: Dropout, 1: Linear), as torchvision's. With options().classifier_convolution(), forward() runs the
  // Linear layer's weights as a 1x1 convolution (ClassifierLogits), not through its own forward.
  torch::nn::Sequential classifier{nullptr};

 private:
  // Dropout, then the Linear layer's [classes, C] weights and bias applied as a 1x1 convolution of [N, C, 1, 1] (or
  // the module itself, without classifier_convolution): the same function, but computed by oneDNN. Debian's LibTorch
  // has no optimised BLAS (BLAS_INFO=generic), so the Linear module's matrix products run ATen's reference loops,
  // about 10x slower than the convolution forward and backward (a third of a 1,000-class pretraining step at 64 px).
  torch::Tensor ClassifierLogits(torch::Tensor pooled, const std::string& prefix, const LeafCallback* on_leaf);
  // The head with options().max_pool_weight() > 0: the classifier at every position of the feature map `map`, then
  // the mean plus the weighted max over positions, plus the bias.
  torch::Tensor SpatialClassifierLogits(torch::Tensor map, const std::string& prefix, const LeafCallback* on_leaf);

  MobileNetOptions options_;
  int64_t feature_channels_ = 0;
};
TORCH_MODULE(MobileNet);

}  // namespace mobilenet

#endif  // MOBILENET_MOBILENET_H_
