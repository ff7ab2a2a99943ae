// Builds the MobileNet a ModelConfig describes.
#ifndef TRAINER_CONFIG_MODEL_BUILDER_H_
#define TRAINER_CONFIG_MODEL_BUILDER_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "mobilenet/mobilenet.h"
#include "trainer/config/config.pb.h"

namespace trainer {

// MobileNetOptions for `config`; `dataset_classes` is the class count of the data (model.num_classes 0 takes it,
// any other value must equal it).
absl::StatusOr<mobilenet::MobileNetOptions> ModelOptionsFromConfig(const ModelConfig& config, int64_t dataset_classes);

// A freshly initialised model (the init scheme draws from torch's global generator: seed it first).
absl::StatusOr<mobilenet::MobileNet> BuildModel(const ModelConfig& config, int64_t dataset_classes);

}  // namespace trainer

#endif  // TRAINER_CONFIG_MODEL_BUILDER_H_
