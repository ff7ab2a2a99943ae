// Options shared by MobileNetV1 and MobileNetV2 (mobilenet/README.md lists every field).
#ifndef MOBILENET_MOBILENET_OPTIONS_H_
#define MOBILENET_MOBILENET_OPTIONS_H_

#include <torch/arg.h>

#include <cstdint>

namespace mobilenet {

enum class Arch { kV1, kV2 };

// How InitializeWeights draws the initial parameters.
enum class InitScheme {
  // The research notes: He (Kaiming normal, fan_out) convs, zero biases, Linear weights N(0, 1), BN weight 1 / bias 0.
  kResearchNotes,
  // torchvision's mobilenet_v2: the same except Linear weights N(0, 0.01).
  kTorchvision,
};

struct MobileNetOptions {
  TORCH_ARG(Arch, arch) = Arch::kV2;
  TORCH_ARG(int64_t, num_classes) = 1000;
  // Channel multiplier; every channel count is rounded with torchvision's _make_divisible(c * width_mult, 8).
  TORCH_ARG(double, width_mult) = 1.0;
  // 32 (the plain network), 16 or 8: later strides become 1 and their convolutions dilate instead (DeepLab).
  TORCH_ARG(int64_t, output_stride) = 32;
  // Dropout probability before the final Linear layer (torchvision: 0.2).
  TORCH_ARG(double, dropout) = 0.2;
  // ReLU6 modifies its input in place (saves one activation tensor per layer).
  TORCH_ARG(bool, inplace_activation) = true;
  // In training mode, BatchNorm + ReLU6 run as one fused autograd function (batchnorm_relu6.h): the same numbers,
  // fewer passes over memory. Off: LibTorch's BatchNorm2d and ReLU6 modules.
  TORCH_ARG(bool, fuse_batchnorm_relu6) = true;
  // Depthwise 3 x 3 convolutions on channels_last float inputs run on the project's own loops (depthwise_conv.h),
  // forward and backward (in eval only where BatchNorm is not folded into them). Off: LibTorch's convolution.
  TORCH_ARG(bool, depthwise_kernel) = true;
  // In eval mode, every BatchNorm is folded into the convolution before it (layers.h, ConvWithFoldedBatchNorm): the
  // same function up to float rounding, one pass less over each activation. Off: the modules one by one.
  TORCH_ARG(bool, fold_batchnorm) = true;
  // The classifier's Linear layer runs as a 1 x 1 convolution (oneDNN), forward and backward: the same function up to
  // float rounding; Debian's LibTorch has no tuned BLAS for the Linear module's matrix products. Off: the module.
  TORCH_ARG(bool, classifier_convolution) = true;
  // The head's spatial max term (CSRA, Zhu & Wu 2021, at infinite temperature): logits = W mean_hw(f) + lambda *
  // max_hw(W f) + b, with W f the classifier applied at every position of the final feature map f. A small object
  // among clutter moves its class's best position more than the image average. 0: the average alone, as
  // torchvision's head.
  TORCH_ARG(double, max_pool_weight) = 0.0;
  TORCH_ARG(InitScheme, init) = InitScheme::kResearchNotes;
};

}  // namespace mobilenet

#endif  // MOBILENET_MOBILENET_OPTIONS_H_
