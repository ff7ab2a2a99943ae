// Prints a model's per-layer table and totals:
//   bazel run //mobilenet:summary -- --arch=v2 --num_classes=80 --input_size=256 [--output_stride=8]
#include <iostream>
#include <string>

#include "absl/status/status.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "mobilenet/mobilenet.h"
#include "mobilenet/summary.h"
#include "tools/cc/main_runner.h"

DEFINE_string(arch, "v2", "Model architecture: v1 or v2.");
DEFINE_int64(num_classes, 80, "Number of output classes (logits).");
DEFINE_int64(input_size, 224, "Input height and width in pixels.");
DEFINE_int64(output_stride, 32, "Output stride of the feature map: 32 (plain), 16 or 8 (dilated).");
DEFINE_double(width_mult, 1.0, "Channel width multiplier (torchvision's _make_divisible rounding to 8).");
DEFINE_double(dropout, 0.2, "Dropout probability before the classifier.");

namespace {

absl::Status Run() {
  mobilenet::MobileNetOptions options;
  if (FLAGS_arch == "v1") {
    options.arch(mobilenet::Arch::kV1);
  } else if (FLAGS_arch != "v2") {
    return absl::InvalidArgumentError("--arch must be v1 or v2, got '" + FLAGS_arch + "'");
  }
  if (FLAGS_num_classes <= 0) return absl::InvalidArgumentError("--num_classes must be positive");
  if (FLAGS_output_stride != 8 && FLAGS_output_stride != 16 && FLAGS_output_stride != 32) {
    return absl::InvalidArgumentError("--output_stride must be 8, 16 or 32, got " +
                                      std::to_string(FLAGS_output_stride));
  }
  if (FLAGS_input_size < 32) return absl::InvalidArgumentError("--input_size must be at least 32");
  if (FLAGS_width_mult <= 0) return absl::InvalidArgumentError("--width_mult must be positive");
  if (FLAGS_dropout < 0 || FLAGS_dropout >= 1) return absl::InvalidArgumentError("--dropout must be in [0, 1)");
  options.num_classes(FLAGS_num_classes)
      .output_stride(FLAGS_output_stride)
      .width_mult(FLAGS_width_mult)
      .dropout(FLAGS_dropout);
  mobilenet::MobileNet model(options);
  std::cout << "MobileNet" << (options.arch() == mobilenet::Arch::kV1 ? "V1" : "V2") << ", " << FLAGS_num_classes
            << " classes, width " << FLAGS_width_mult << ", output stride " << FLAGS_output_stride << ", input 3x"
            << FLAGS_input_size << "x" << FLAGS_input_size << "\n";
  std::cout << mobilenet::Summarize(*model, FLAGS_input_size).ToString();
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  return coco::RunMain(argc, argv, "Prints a MobileNet's per-layer table and size totals (torchsummary layout).",
                       [](int argc, char** argv) { return Run(); });
}
