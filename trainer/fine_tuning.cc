#include "trainer/fine_tuning.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "data/coco/label_space.h"
#include "mobilenet/pretrained_weights.h"
#include "mobilenet/state_dict_io.h"
#include "tools/cc/status_macros.h"
#include "trainer/paths.h"

namespace trainer {

namespace {

constexpr char kPretrainedPrefix[] = "pretrained:";
constexpr char kManifest[] = "mobilenet/pretrained/MANIFEST.tsv";

bool IsPretrainedReference(const std::string& reference) { return reference.rfind(kPretrainedPrefix, 0) == 0; }

}  // namespace

absl::StatusOr<std::string> ResolveInitWeights(const std::string& reference, const std::string& runs_root,
                                               const std::string& manifest) {
  if (IsPretrainedReference(reference)) {
    const std::string manifest_path = manifest.empty() ? FindShippedFile(kManifest) : manifest;
    if (manifest_path.empty()) {
      return absl::NotFoundError("fine_tune.init_weights \"" + reference + "\": the shipped weights' manifest (" +
                                 kManifest + ") is not in this binary's runfiles or the workspace");
    }
    ASSIGN_OR_RETURN(mobilenet::PretrainedEntry entry,
                     mobilenet::ResolvePretrained(reference.substr(sizeof(kPretrainedPrefix) - 1), manifest_path));
    return entry.file;
  }
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
                                               mobilenet::MobileNetImpl& model, const std::string& manifest) {
  FineTuneResult result;
  std::string& report = result.report;
  if (!config.init_weights().empty()) {
    ASSIGN_OR_RETURN(std::string weights, ResolveInitWeights(config.init_weights(), runs_root, manifest));
    ASSIGN_OR_RETURN(mobilenet::StateDict state, mobilenet::ReadStateDict(weights));
    std::string classifier_note;
    const std::string classes_file = (std::filesystem::path(weights).parent_path() / "classes.txt").string();
    if (std::filesystem::exists(classes_file)) {
      ASSIGN_OR_RETURN(std::vector<std::string> trained_on, coco::data::ReadClassList(classes_file));
      if (trained_on != class_names) {
        if (!config.allow_partial()) {
          return absl::FailedPreconditionError(
              absl::StrCat("fine_tune.init_weights '", weights, "' was trained on ", trained_on.size(), " classes (",
                           classes_file, ") that differ from this run's ", class_names.size(),
                           ": set fine_tune.allow_partial to re-initialise the classifier"));
        }
        for (auto it = state.begin(); it != state.end();) {
          it = it->first.rfind("classifier.", 0) == 0 ? state.erase(it) : std::next(it);
        }
        classifier_note =
            "\nclassifier re-initialised: the initial weights were trained on other classes (" + classes_file + ")";
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
    // Shipped weights are a known architecture: anything but the classifier failing to load means the config's model
    // is another one, and allow_partial would silently start from random features.
    if (IsPretrainedReference(config.init_weights())) {
      for (const std::vector<std::string>* problems : {&load.missing, &load.unexpected, &load.shape_mismatched}) {
        for (const std::string& problem : *problems) {
          if (problem.rfind("classifier.", 0) == 0) continue;
          return absl::InvalidArgumentError("fine_tune.init_weights \"" + config.init_weights() + "\" (" + weights +
                                            ") does not fit this model (first: " + problem +
                                            "); see mobilenet/pretrained/README.md for the model each was made for:\n" +
                                            load.ToString());
        }
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
