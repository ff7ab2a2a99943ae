#include "trainer/onnx/export_metadata.h"

#include <cstdio>

#include "tools/cc/json_string.h"

namespace trainer {
namespace {

std::string Number(double value, const char* format = "%.9g") {
  char text[64];
  std::snprintf(text, sizeof(text), format, value);
  return text;
}

template <typename T>
std::string JsonNumberArray(const T& values, const char* format = "%.9g") {
  std::string json = "[";
  for (size_t i = 0; i < values.size(); ++i) json += (i ? ", " : "") + Number(values[i], format);
  return json + "]";
}

}  // namespace

std::string JsonStringArray(const std::vector<std::string>& values) {
  std::string json = "[";
  for (size_t i = 0; i < values.size(); ++i) json += (i ? ", " : "") + coco::JsonString(values[i]);
  return json + "]";
}

std::vector<std::pair<std::string, std::string>> MetadataProps(const ExportDescription& d) {
  const std::string size = std::to_string(d.input_size);
  std::vector<std::pair<std::string, std::string>> props = {
      {"class_names", JsonStringArray(d.class_names)},
      {"num_classes", std::to_string(d.class_names.size())},
  };
  // 17 digits, as thresholds.txt has them.
  if (!d.thresholds.empty()) props.emplace_back("thresholds", JsonNumberArray(d.thresholds, "%.17g"));
  props.insert(props.end(),
               {
                   {"input_name", "input"},
                   {"input_shape", "[" + (d.batch > 0 ? std::to_string(d.batch) : std::string("\"N\"")) + ", 3, " +
                                       size + ", " + size + "]"},
                   {"input_size", size},
                   {"input_format", "NCHW float32 RGB"},
                   {"mean", JsonNumberArray(d.mean, "%.6g")},  // floats: 6 digits print 0.485, not 0.485000014
                   {"std", JsonNumberArray(d.std, "%.6g")},
                   {"normalization_in_graph", d.normalize_in_graph ? "true" : "false"},
                   {"resize_mode", d.resize_mode},
                   {"center_crop_fraction", Number(d.center_crop_fraction, "%.6g")},
                   {"outputs", d.sigmoid_output ? "[\"logits\", \"probabilities\"]" : "[\"logits\"]"},
                   {"arch", d.arch},
                   {"width_mult", Number(d.width_mult, "%.6g")},
                   {"output_stride", std::to_string(d.output_stride)},
                   {"opset", std::to_string(d.opset)},
                   {"config_name", d.config_name},
                   {"config_hash", d.config_hash},
                   {"toolkit_version", kToolkitVersion},
               });
  return props;
}

}  // namespace trainer
