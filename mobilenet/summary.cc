#include "mobilenet/summary.h"

#include <torch/torch.h>

#include <cstdio>
#include <sstream>

namespace mobilenet {
namespace {

constexpr double kBytesPerValue = 4.0;
constexpr double kMiB = 1024.0 * 1024.0;

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string text = "[-1";  // torchsummary prints the batch dimension as -1
  for (size_t i = 1; i < shape.size(); ++i) text += ", " + std::to_string(shape[i]);
  return text + "]";
}

std::string WithThousands(int64_t value) {
  std::string digits = std::to_string(value);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<size_t>(i), ",");
  return digits;
}

std::string TypeName(const torch::nn::Module& module) {
  // Module::name() is "torch::nn::Conv2dImpl"; keep the class name only.
  std::string name = module.name();
  const size_t colon = name.rfind("::");
  if (colon != std::string::npos) name = name.substr(colon + 2);
  if (name.size() > 4 && name.compare(name.size() - 4, 4, "Impl") == 0) name.resize(name.size() - 4);
  return name;
}

}  // namespace

ModelSummary Summarize(MobileNetImpl& model, int64_t input_size) {
  ModelSummary summary;
  summary.input_shape = {1, 3, input_size, input_size};
  const bool was_training = model.is_training();
  model.eval();
  {
    torch::NoGradGuard no_grad;
    model.ForwardTraced(torch::zeros(summary.input_shape),
                        [&summary](const std::string& name, const torch::nn::Module& leaf, const torch::Tensor& out) {
                          LayerRow row{name, TypeName(leaf), out.sizes().vec(), 0};
                          for (const auto& p : leaf.parameters(/*recurse=*/false)) row.parameters += p.numel();
                          summary.layers.push_back(std::move(row));
                        });
  }
  model.train(was_training);

  for (const torch::Tensor& p : model.parameters()) {
    summary.total_parameters += p.numel();
    (p.requires_grad() ? summary.trainable_parameters : summary.non_trainable_parameters) += p.numel();
  }
  int64_t activation_values = 0;
  for (const LayerRow& row : summary.layers) {
    int64_t numel = 1;
    for (size_t i = 1; i < row.output_shape.size(); ++i) numel *= row.output_shape[i];
    activation_values += numel;
  }
  summary.input_mb = 3.0 * input_size * input_size * kBytesPerValue / kMiB;
  summary.forward_backward_mb = 2.0 * activation_values * kBytesPerValue / kMiB;
  summary.params_mb = summary.total_parameters * kBytesPerValue / kMiB;
  return summary;
}

std::string ModelSummary::ToString() const {
  std::ostringstream out;
  char line[256];
  const std::string rule(88, '-');
  const std::string double_rule(88, '=');
  out << rule << "\n";
  std::snprintf(line, sizeof(line), "%-48s %25s %13s\n", "Layer (name: type)", "Output Shape", "Param #");
  out << line << double_rule << "\n";
  for (const LayerRow& row : layers) {
    std::snprintf(line, sizeof(line), "%-48s %25s %13s\n", (row.name + ": " + row.type).c_str(),
                  ShapeText(row.output_shape).c_str(), WithThousands(row.parameters).c_str());
    out << line;
  }
  out << double_rule << "\n";
  out << "Total params: " << WithThousands(total_parameters) << "\n";
  out << "Trainable params: " << WithThousands(trainable_parameters) << "\n";
  out << "Non-trainable params: " << WithThousands(non_trainable_parameters) << "\n";
  out << "Leaf layers: " << layers.size() << "\n";
  out << rule << "\n";
  std::snprintf(line, sizeof(line),
                "Input size (MB): %.2f\nForward/backward pass size (MB): %.2f\nParams size (MB): %.2f\n"
                "Estimated Total Size (MB): %.2f\n",
                input_mb, forward_backward_mb, params_mb, total_mb());
  out << line << rule << "\n";
  return out.str();
}

}  // namespace mobilenet
