// The metadata_props an exported ONNX model carries: everything a consumer needs to feed it and read its output
// (class names, thresholds, input size, normalisation) and where it came from (config hash, toolkit version).
#ifndef TRAINER_ONNX_EXPORT_METADATA_H_
#define TRAINER_ONNX_EXPORT_METADATA_H_

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace trainer {

// The toolkit's version, written into exported models (producer_version and `toolkit_version`). Raise it by hand
// when what the toolkit writes changes; it does not depend on git.
inline constexpr char kToolkitVersion[] = "coco-multilabel 0.13.0";

struct ExportDescription {
  std::vector<std::string> class_names;  // in logit order
  std::vector<double> thresholds;        // per-class probability thresholds; empty when the run has none
  int64_t input_size = 224;
  double center_crop_fraction = 0.875;
  std::string resize_mode =
      "crop";  // "crop": shorter side to S / fraction, centre crop; "squash": whole image to S x S
  std::array<float, 3> mean = {0.485f, 0.456f, 0.406f};
  std::array<float, 3> std = {0.229f, 0.224f, 0.225f};
  bool normalize_in_graph = false;
  bool sigmoid_output = false;
  int64_t batch = 0;  // 0: dynamic
  int64_t opset = 13;
  std::string arch;  // "mobilenet_v1" / "mobilenet_v2"
  double width_mult = 1.0;
  int64_t output_stride = 32;
  std::string config_name;
  std::string config_hash;
};

// (key, value) pairs in a fixed order; lists are JSON arrays, flags "true" / "false" (trainer/onnx/README.md
// lists every key).
std::vector<std::pair<std::string, std::string>> MetadataProps(const ExportDescription& description);

// `values` as a JSON array of strings, escaping quotes, backslashes and control characters.
std::string JsonStringArray(const std::vector<std::string>& values);

}  // namespace trainer

#endif  // TRAINER_ONNX_EXPORT_METADATA_H_
