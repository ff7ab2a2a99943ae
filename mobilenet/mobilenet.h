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
  // Sequential(0: Dropout, 1: Linear), as torchvision's.
  torch::nn::Sequential classifier{nullptr};

 private:
  MobileNetOptions options_;
  int64_t feature_channels_ = 0;
};
TORCH_MODULE(MobileNet);

}  // namespace mobilenet

#endif  // MOBILENET_MOBILENET_H_
