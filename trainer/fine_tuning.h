// Fine-tuning from earlier weights: resolves fine_tune.init_weights (a file, "run:<name>" for the newest run of an
// experiment, or "pretrained:<name>" for weights shipped in mobilenet/pretrained/), loads that torchvision-keyed
// state dict into the model, and freezes the requested feature blocks and parameter patterns.
#ifndef TRAINER_FINE_TUNING_H_
#define TRAINER_FINE_TUNING_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mobilenet/freezer.h"
#include "mobilenet/mobilenet.h"
#include "trainer/config/config.pb.h"

namespace trainer {

// "run:<name>" -> <runs_root>/<newest directory named <name>-*>/model_best.pt; "pretrained:<name>" -> the shipped
// weights of that name in `manifest` (default: mobilenet/pretrained/MANIFEST.tsv from runfiles or the workspace),
// their SHA-256 checked; anything else is returned as is.
absl::StatusOr<std::string> ResolveInitWeights(const std::string& reference, const std::string& runs_root,
                                               const std::string& manifest = "");

struct FineTuneResult {
  std::string report;              // what was loaded and frozen, for the log and report.md; "" when nothing was
  mobilenet::FreezeReport freeze;  // which parameters and BatchNorm layers stay frozen
};

// Loads and freezes as `config` says. A partial match (other than a classifier with a different class count) is an
// error unless config.allow_partial(). When the weights' run left a classes.txt beside them and its classes differ
// from `class_names` (this run's label space), the classifier would mean other classes: that is an error, or with
// allow_partial the classifier is left out of the load (re-initialised) and the report says so. Shipped weights
// ("pretrained:<name>") must fit the model except for the classifier, whatever allow_partial says.
absl::StatusOr<FineTuneResult> ApplyFineTuning(const FineTuneConfig& config, const std::string& runs_root,
                                               const std::vector<std::string>& class_names,
                                               mobilenet::MobileNetImpl& model, const std::string& manifest = "");

}  // namespace trainer

#endif  // TRAINER_FINE_TUNING_H_
