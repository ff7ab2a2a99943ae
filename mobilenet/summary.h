// A per-layer table and size totals for a model, laid out the way torchsummary prints them.
#ifndef MOBILENET_SUMMARY_H_
#define MOBILENET_SUMMARY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "mobilenet/mobilenet.h"

namespace mobilenet {

struct LayerRow {
  std::string name;                   // dotted module name, e.g. features.1.conv.0.0
  std::string type;                   // Conv2d, BatchNorm2d, ReLU6, Dropout, Linear
  std::vector<int64_t> output_shape;  // with the batch dimension
  int64_t parameters = 0;             // the layer's own parameters
};

struct ModelSummary {
  std::vector<LayerRow> layers;  // leaf layers in execution order
  std::vector<int64_t> input_shape;
  int64_t total_parameters = 0;
  int64_t trainable_parameters = 0;
  int64_t non_trainable_parameters = 0;
  // Sizes in MiB for one sample, float32 (4 bytes), as torchsummary computes them:
  double input_mb = 0;             // numel(input) * 4 / 2^20
  double forward_backward_mb = 0;  // 2 * sum over leaf layers of numel(output) * 4 / 2^20 (activations + grads)
  double params_mb = 0;            // total_parameters * 4 / 2^20
  double total_mb() const { return input_mb + forward_backward_mb + params_mb; }
  std::string ToString() const;
};

// Runs one forward pass in eval mode on zeros of shape [1, 3, input_size, input_size] and records every leaf
// layer. The model's train/eval mode is restored afterwards.
ModelSummary Summarize(MobileNetImpl& model, int64_t input_size);

}  // namespace mobilenet

#endif  // MOBILENET_SUMMARY_H_
