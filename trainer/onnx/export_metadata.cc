#include "trainer/onnx/export_metadata.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/cc/json_string.h"

namespace trainer {
namespace {

// "%.9g" by default: `digits` significant digits.
std::string Number(double value, int digits = 9) { return absl::StrFormat("%.*g", digits, value); }

template <typename T>
std::string JsonNumberArray(const T& values, int digits = 9) {
  std::string json = "[";
  for (size_t i = 0; i < values.size(); ++i) absl::StrAppend(&json, i ? ", " : "", Number(values[i], digits));
  return json + "]";
}

}  // namespace

std::string JsonStringArray(const std::vector<std::string>& values) {
  std::string json = "[";
  for (size_t i = 0; i < values.size(); ++i) absl::StrAppend(&json, i ? ", " : "", coco::JsonString(values[i]));
  return json + "]";
}

std::vector<std::pair<std::string, std::string>> MetadataProps(const ExportDescription& d) {
  const std::string size = absl::StrCat(d.input_size);
  std::vector<std::pair<std::string, std::string>> props = {
      {"class_names", JsonStringArray(d.class_names)},
      {"num_classes", absl::StrCat(d.class_names.size())},
  };
  // 17 digits, as thresholds.txt has them.
  if (!d.thresholds.empty()) props.emplace_back("thresholds", JsonNumberArray(d.thresholds, 17));
  props.insert(props.end(),
               {
                   {"input_name", "input"},
                   {"input_shape", absl::StrCat("[", d.batch > 0 ? absl::StrCat(d.batch) : std::string("\"N\""),
                                                ", 3, ", size, ", ", size, "]")},
                   {"input_size", size},
                   {"input_format", "NCHW float32 RGB"},
                   {"mean", JsonNumberArray(d.mean, 6)},  // floats: 6 digits print 0.485, not 0.485000014
                   {"std", JsonNumberArray(d.std, 6)},
                   {"normalization_in_graph", d.normalize_in_graph ? "true" : "false"},
                   {"resize_mode", d.resize_mode},
                   {"center_crop_fraction", Number(d.center_crop_fraction, 6)},
                   {"outputs", d.sigmoid_output ? "[\"logits\", \"probabilities\"]" : "[\"logits\"]"},
                   {"arch", d.arch},
                   {"width_mult", Number(d.width_mult, 6)},
                   {"output_stride", absl::StrCat(d.output_stride)},
                   {"opset", absl::StrCat(d.opset)},
                   {"config_name", d.config_name},
                   {"config_hash", d.config_hash},
                   {"toolkit_version", kToolkitVersion},
               });
  return props;
}

}  // namespace trainer
