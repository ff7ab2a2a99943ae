// A MobileNet's eval-mode forward pass compiled into oneDNN primitives, for evaluate and predict.
//
// LibTorch runs each convolution through oneDNN too, but per call: it reorders the weights into oneDNN's layout,
// writes NHWC activations, and applies ReLU6 and the residual additions as separate passes over memory. Here every
// convolution has its BatchNorm folded in once, its weights reordered once into the layout oneDNN's kernel wants
// (blocked, e.g. 16 channels per block with AVX-512), ReLU6 as an eltwise_clip post-op and the residual addition
// as a sum post-op writing into the block's input buffer; activations stay in the blocked layout from the first
// convolution to the global average pooling. Primitives and buffers are built per input shape on first use and
// kept (a few shapes: the batch size and a smaller last batch).
//
// The model's weights are read once, by Create: an engine made before the weights change computes the old model.
#ifndef MOBILENET_DNNL_INFERENCE_H_
#define MOBILENET_DNNL_INFERENCE_H_

#include <torch/types.h>

#include <memory>

#include "absl/status/statusor.h"
#include "mobilenet/mobilenet.h"

namespace mobilenet {

// kBFloat16: activations and convolution weights in bfloat16 (biases, the pooled features and the classifier in
// float), for CPUs with native bf16 arithmetic (AVX-512 BF16, AMX).
enum class InferencePrecision { kFloat32, kBFloat16 };

class DnnlInference {
 public:
  // Reads `model`'s weights and BatchNorm running statistics. Errors name a module this engine does not know
  // (anything but Conv2d + BatchNorm2d pairs, ReLU6, Dropout, inverted residual blocks and a Dropout + Linear head),
  // or say that the CPU lacks native bf16.
  static absl::StatusOr<std::unique_ptr<DnnlInference>> Create(
      MobileNetImpl& model, InferencePrecision precision = InferencePrecision::kFloat32);
  ~DnnlInference();

  // Logits [N, num_classes] (float32) for float32 images [N, 3, H, W] on the CPU, contiguous or channels_last:
  // model->forward(images) in eval mode, up to float (or bf16) rounding. Not thread-safe: one caller at a time.
  torch::Tensor Forward(const torch::Tensor& images);

 private:
  struct Network;
  explicit DnnlInference(std::unique_ptr<Network> network);
  std::unique_ptr<Network> network_;
};

}  // namespace mobilenet

#endif  // MOBILENET_DNNL_INFERENCE_H_
