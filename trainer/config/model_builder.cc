#include "trainer/config/model_builder.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "tools/cc/status_macros.h"

namespace trainer {

absl::StatusOr<mobilenet::MobileNetOptions> ModelOptionsFromConfig(const ModelConfig& config, int64_t dataset_classes) {
  if (config.num_classes() != 0 && config.num_classes() != dataset_classes) {
    return absl::InvalidArgumentError(absl::StrCat("model.num_classes is ", config.num_classes(),
                                                   " but the dataset has ", dataset_classes,
                                                   " classes (0 takes the dataset's)"));
  }
  if (dataset_classes < 1) return absl::InvalidArgumentError("the dataset has no classes");
  mobilenet::MobileNetOptions options;
  options.arch(config.has_mobilenet_v1() ? mobilenet::Arch::kV1 : mobilenet::Arch::kV2)
      .num_classes(dataset_classes)
      .width_mult(config.width_mult())
      .output_stride(config.output_stride())
      .dropout(config.dropout())
      .max_pool_weight(config.max_pool_weight())
      .init(config.init() == ModelConfig::TORCHVISION ? mobilenet::InitScheme::kTorchvision
                                                      : mobilenet::InitScheme::kResearchNotes);
  return options;
}

absl::StatusOr<mobilenet::MobileNet> BuildModel(const ModelConfig& config, int64_t dataset_classes) {
  ASSIGN_OR_RETURN(mobilenet::MobileNetOptions options, ModelOptionsFromConfig(config, dataset_classes));
  return mobilenet::MobileNet(options);
}

}  // namespace trainer
