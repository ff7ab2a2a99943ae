#include "trainer/fine_tuning.h"

#include <filesystem>

#include "data/coco/label_space.h"
#include "mobilenet/state_dict_io.h"
#include "tools/cc/status_macros.h"

namespace trainer {

absl::StatusOr<std::string> ResolveInitWeights(const std::string& reference, const std::string& runs_root) {
  const std::string prefix = "run:";
  if (reference.rfind(prefix, 0) != 0) return reference;
  const std::string name = reference.substr(prefix.size());
  std::string newest;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(runs_root, error)) {
    const std::string dir = entry.path().filename();
    if (dir.rfind(name + "-", 0) != 0 || !std::filesystem::exists(entry.path() / "model_best.pt")) continue;
    if (dir > newest) newest = dir;  // names end in a sortable timestamp
  }
  if (newest.empty()) {
    return absl::NotFoundError("fine_tune.init_weights \"" + reference + "\": no run of '" + name +
                               "' with a model_best.pt under '" + runs_root + "' (train it first: bazel run " +
                               "//experiments:" + name + ")");
  }
  return runs_root + "/" + newest + "/model_best.pt";
}

absl::StatusOr<FineTuneResult> ApplyFineTuning(const FineTuneConfig& config, const std::string& runs_root,
                                               const std::vector<std::string>& class_names,
                                               mobilenet::MobileNetImpl& model) {
  FineTuneResult result;
  std::string& report = result.report;
  if (!config.init_weights().empty()) {
    ASSIGN_OR_RETURN(std::string weights, ResolveInitWeights(config.init_weights(), runs_root));
    ASSIGN_OR_RETURN(mobilenet::StateDict state, mobilenet::ReadStateDict(weights));
    std::string classifier_note;
    const std::string classes_file = (std::filesystem::path(weights).parent_path() / "classes.txt").string();
    if (std::filesystem::exists(classes_file)) {
      ASSIGN_OR_RETURN(std::vector<std::string> trained_on, coco::data::ReadClassList(classes_file));
      if (trained_on != class_names) {
        if (!config.allow_partial()) {
          return absl::FailedPreconditionError(
              "fine_tune.init_weights '" + weights + "' was trained on " + std::to_string(trained_on.size()) +
              " classes (" + classes_file + ") that differ from this run's " + std::to_string(class_names.size()) +
              ": set fine_tune.allow_partial to re-initialise the classifier");
        }
        for (auto it = state.begin(); it != state.end();) {
          it = it->first.rfind("classifier.", 0) == 0 ? state.erase(it) : std::next(it);
        }
        classifier_note = "\nclassifier re-initialised: the initial weights were trained on other classes (" +
                          classes_file + ")";
      }
    }
    const mobilenet::LoadReport load = mobilenet::LoadStateDict(model, state);
    report = "initial weights: " + weights + "\n" + load.ToString() + classifier_note;
    for (const std::string& mismatch : load.shape_mismatched) {
      if (classifier_note.empty() && mismatch.rfind("classifier.", 0) == 0) {
        report += "\nclassifier re-initialised: the class count differs from the initial weights'";
        break;
      }
    }
    if (!load.complete() && !config.allow_partial()) {
      return absl::InvalidArgumentError("fine_tune.allow_partial is false but '" + weights +
                                        "' does not match the model:\n" + load.ToString());
    }
  }
  if (config.freeze_feature_blocks() > 0 || config.freeze_patterns_size() > 0) {
    mobilenet::FreezeOptions freeze;
    freeze.num_feature_blocks(config.freeze_feature_blocks());
    freeze.name_patterns({config.freeze_patterns().begin(), config.freeze_patterns().end()});
    ASSIGN_OR_RETURN(result.freeze, mobilenet::FreezeParameters(model, freeze));
    report += (report.empty() ? "" : "\n") + result.freeze.ToString();
  }
  return result;
}

}  // namespace trainer
