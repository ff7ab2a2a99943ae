// Loads a TrainConfig: experiments/base.pbtxt, then the experiment's overlay, then --override text, each merged with
// protobuf MergeFrom semantics; fills in every default and validates ranges, naming the file, line and field.
#ifndef TRAINER_CONFIG_CONFIG_LOADER_H_
#define TRAINER_CONFIG_CONFIG_LOADER_H_

#include <array>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "trainer/config/config.pb.h"

namespace trainer {

struct ConfigRequest {
  // An experiment name ("focal" -> <experiments_dir>/focal.pbtxt) or a path to a .pbtxt file. Either is an overlay
  // merged on top of <experiments_dir>/base.pbtxt (except base.pbtxt itself).
  std::string config;
  std::string experiments_dir;
  // Text-format TrainConfig fragments merged last, in order ("training { epochs: 1 }").
  std::vector<std::string> overrides;
};

struct LoadedConfig {
  TrainConfig config;                // merged, defaults filled in, `clear` removed, `name` set
  std::vector<std::string> sources;  // the files / "--override[i]" merged, in order
  std::string text;                  // `config` in text format, as written to the run directory
  std::string hash;                  // 16 hex digits of a 64-bit FNV-1a hash of `text`
};

// Merge rules (protobuf's MergeFrom): a scalar set in a later layer replaces the earlier value; a message merges
// field by field; setting another member of a oneof replaces the whole choice; a repeated field APPENDS. To replace
// a repeated field or a message, list its path in `clear` in the later layer: `clear: "fine_tune.freeze_patterns"`
// clears it before that layer is merged.
absl::StatusOr<LoadedConfig> LoadTrainConfig(const ConfigRequest& request);

// Parses one text-format layer. Errors read "<source>:<line>:<column>: <protobuf's message>", which names the
// unknown field or the bad value.
absl::StatusOr<TrainConfig> ParseTrainConfigText(const std::string& text, const std::string& source);

// Creates the top-level sections (and data.augmentation), sets every unset scalar of every present message to its
// schema default and picks the default member of unset oneofs (mobilenet_v2, synthetic, bce, sgd, cosine). Optional
// messages whose presence switches something on (optimizer.ema, loss ... class_balanced) stay absent.
void FillDefaults(TrainConfig& config);

// Checks every range documented in config.proto on a config after FillDefaults. The error names the field path
// ("training.epochs must be in [1, 10000], got 0").
absl::Status ValidateTrainConfig(const TrainConfig& config);

// Overwrites `mean` and `stddev` (the callers' ImageNet defaults: coco::data::TransformOptions, the ONNX export's
// description) with data.normalization's lists, each where the config gives its 3 values; a validated config gives 3
// or none. Every TransformOptions built from a run's config goes through this, so train, val, calibration,
// evaluate, predict and export normalise alike.
void ApplyNormalization(const DataConfig& data, std::array<float, 3>& mean, std::array<float, 3>& stddev);

// A run directory's config.pbtxt read by this build: `written_hash` hashes the text as the run wrote it (the comment
// header dropped), as its checkpoints record it; `text_now` is that config re-printed after FillDefaults, so fields
// added to the schema since the run was written appear with their defaults. When text_now equals a config resolved
// today, the run trained with exactly that config, and --resume may continue it across the upgrade.
struct RunConfigReading {
  std::string written_hash;
  std::string text_now;
};
absl::StatusOr<RunConfigReading> RereadRunConfig(const std::string& config_pbtxt);

// The path of experiment `name` in `experiments_dir`.
std::string ExperimentPath(const std::string& experiments_dir, const std::string& name);

}  // namespace trainer

#endif  // TRAINER_CONFIG_CONFIG_LOADER_H_
