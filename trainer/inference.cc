#include "trainer/inference.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "data/coco/coco_categories.h"
#include "data/coco/label_space.h"
#include "mobilenet/state_dict_io.h"
#include "tools/cc/status_macros.h"
#include "trainer/config/config_loader.h"
#include "trainer/config/model_builder.h"

namespace trainer {

absl::StatusOr<std::vector<std::string>> ClassNamesFromThresholds(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("cannot read thresholds file '" + path + "'");
  std::vector<std::string> names;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("class ", 0) != 0) continue;
    std::istringstream fields(line.substr(6));
    size_t index = 0;
    double threshold = 0;
    fields >> index >> threshold;
    std::string name;
    std::getline(fields >> std::ws, name);
    if (!fields.eof() && fields.fail()) return absl::DataLossError(path + ": bad line: " + line);
    if (index != names.size()) return absl::DataLossError(path + ": classes out of order at: " + line);
    names.push_back(name);
  }
  if (names.empty()) return absl::DataLossError(path + ": no class lines");
  return names;
}

absl::StatusOr<bool> FlipTtaFromName(const std::string& name) {
  if (name == "none") return false;
  if (name == "flip") return true;
  return absl::InvalidArgumentError("unknown test-time augmentation '" + name + "' (known: none, flip)");
}

absl::StatusOr<InferenceModel> LoadInferenceModel(const std::string& run_dir, const std::string& weights) {
  InferenceModel result;
  const std::string config_path = run_dir + "/config.pbtxt";
  std::ifstream in(config_path);
  if (!in) return absl::NotFoundError("cannot read '" + config_path + "' (is --run_dir a training run directory?)");
  std::stringstream text;
  text << in.rdbuf();
  ASSIGN_OR_RETURN(result.config, ParseTrainConfigText(text.str(), config_path));
  FillDefaults(result.config);
  const std::string classes = run_dir + "/classes.txt";
  const std::string thresholds = run_dir + "/thresholds.txt";
  if (std::filesystem::exists(classes)) {
    ASSIGN_OR_RETURN(result.class_names, coco::data::ReadClassList(classes));
  } else if (std::filesystem::exists(thresholds)) {
    ASSIGN_OR_RETURN(result.class_names, ClassNamesFromThresholds(thresholds));
  } else {
    for (const auto& category : coco::data::Coco2017Categories()) result.class_names.push_back(category.name);
  }
  ASSIGN_OR_RETURN(result.model, BuildModel(result.config.model(), static_cast<int64_t>(result.class_names.size())));
  result.weights_path = weights.empty() ? run_dir + "/model_best.pt" : weights;
  ASSIGN_OR_RETURN(mobilenet::StateDict state, mobilenet::ReadStateDict(result.weights_path));
  const mobilenet::LoadReport report = mobilenet::LoadStateDict(*result.model, state);
  if (!report.complete()) {
    return absl::InvalidArgumentError("'" + result.weights_path + "' does not match the run's model:\n" +
                                      report.ToString());
  }
  result.model->eval();
  return result;
}

}  // namespace trainer
