#include "trainer/sweep_runner.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <cstdio>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "glog/logging.h"
#include "tools/cc/atomic_file.h"
#include "tools/cc/status_macros.h"
#include "trainer/config/config_loader.h"
#include "trainer/trainer.h"

namespace trainer {
namespace {

class SweepErrors : public google::protobuf::io::ErrorCollector {
 public:
  explicit SweepErrors(std::string source) : source_(std::move(source)) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column, const std::string& message) override {
    text_ += (text_.empty() ? "" : "\n") + source_ + ":" + std::to_string(line + 1) + ":" +
             std::to_string(column + 1) + ": " + message;
  }
  std::string text_;

 private:
  std::string source_;
};

std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

std::string Percent(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.2f", 100 * value);
  return buffer;
}

std::string Fixed(double value, const char* format) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), format, value);
  return buffer;
}

}  // namespace

namespace {

// The rows of a previous invocation's results.csv, by run label; none when the sweep never finished a run.
absl::StatusOr<std::map<std::string, SweepRow>> ReadFinishedRuns(const std::string& path) {
  std::map<std::string, SweepRow> finished;
  std::ifstream in(path);
  if (!in) return finished;
  std::stringstream text;
  text << in.rdbuf();
  ASSIGN_OR_RETURN(std::vector<SweepRow> rows, ParseSweepCsv(text.str(), path));
  for (SweepRow& row : rows) finished[row.label] = std::move(row);
  return finished;
}

}  // namespace

absl::StatusOr<SweepConfig> ReadSweepConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("cannot read sweep file '" + path + "'");
  std::stringstream text;
  text << in.rdbuf();
  SweepConfig config;
  SweepErrors errors(path);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text.str(), &config)) return absl::InvalidArgumentError(errors.text_);
  for (int i = 0; i < config.run_size(); ++i) {
    const SweepRun& run = config.run(i);
    if (run.label().empty() || run.label().find_first_not_of(
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") !=
                                   std::string::npos) {
      return absl::InvalidArgumentError(path + ": run " + std::to_string(i) + ": label must be [A-Za-z0-9_.-]+, got \"" +
                                        run.label() + "\"");
    }
    if (run.config().empty()) return absl::InvalidArgumentError(path + ": run " + run.label() + ": config is empty");
  }
  return config;
}

std::string SweepMarkdown(const std::vector<SweepRow>& rows) {
  std::string table =
      "| run | config | mAP | micro-F1 | macro-F1 | accuracy | tuned micro-F1 | tuned macro-F1 | train time (s) | "
      "images/s | skipped steps |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const SweepRow& row : rows) {
    table += "| " + row.label + " | " + row.config + " | " + Percent(row.map) + " | " + Percent(row.micro_f1) + " | " +
             Percent(row.macro_f1) + " | " + Percent(row.accuracy) + " | " + Percent(row.tuned_micro_f1) + " | " +
             Percent(row.tuned_macro_f1) + " | " + Fixed(row.train_seconds, "%.0f") + " | " +
             Fixed(row.images_per_second, "%.1f") + " | " + std::to_string(row.skipped_steps) + " |\n";
  }
  return table;
}

absl::StatusOr<std::vector<SweepRow>> ParseSweepCsv(const std::string& text, const std::string& path) {
  std::vector<SweepRow> rows;
  std::istringstream lines(text);
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    if (++number == 1 || line.empty()) continue;  // the header
    std::vector<std::string> fields;
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) fields.push_back(cell);
    SweepRow row;
    bool valid = fields.size() == 11;
    if (valid) {
      row.label = fields[0];
      row.config = fields[1];
      double* numbers[] = {&row.map, &row.micro_f1, &row.macro_f1, &row.accuracy, &row.tuned_micro_f1,
                           &row.tuned_macro_f1, &row.train_seconds, &row.images_per_second};
      for (int i = 0; i < 8 && valid; ++i) {
        char* end = nullptr;
        *numbers[i] = std::strtod(fields[2 + i].c_str(), &end);
        valid = !fields[2 + i].empty() && *end == '\0';
      }
      char* end = nullptr;
      row.skipped_steps = std::strtoll(fields[10].c_str(), &end, 10);
      valid = valid && !fields[10].empty() && *end == '\0';
    }
    if (!valid) {
      return absl::InvalidArgumentError(path + ":" + std::to_string(number) +
                                        ": expected 11 comma-separated fields (run, config, 8 numbers, skipped "
                                        "steps) as SweepCsv writes them, got \"" + line + "\"");
    }
    rows.push_back(row);
  }
  return rows;
}

std::string SweepCsv(const std::vector<SweepRow>& rows) {
  std::string csv = "run,config,mAP,micro_f1,macro_f1,accuracy,tuned_micro_f1,tuned_macro_f1,train_seconds,"
                    "images_per_second,skipped_steps\n";
  for (const SweepRow& row : rows) {
    csv += row.label + "," + row.config + "," + Fixed(row.map, "%.6f") + "," + Fixed(row.micro_f1, "%.6f") + "," +
           Fixed(row.macro_f1, "%.6f") + "," + Fixed(row.accuracy, "%.6f") + "," + Fixed(row.tuned_micro_f1, "%.6f") +
           "," + Fixed(row.tuned_macro_f1, "%.6f") + "," + Fixed(row.train_seconds, "%.2f") + "," +
           Fixed(row.images_per_second, "%.2f") + "," + std::to_string(row.skipped_steps) + "\n";
  }
  return csv;
}

absl::StatusOr<SweepOutcome> RunSweep(const SweepOptions& options) {
  ASSIGN_OR_RETURN(SweepConfig sweep, ReadSweepConfig(options.sweep_path));
  std::error_code error;
  std::filesystem::create_directories(options.out_dir, error);
  if (error) return absl::UnavailableError("cannot create '" + options.out_dir + "': " + error.message());
  std::map<std::string, SweepRow> finished;
  if (options.resume) {
    ASSIGN_OR_RETURN(finished, ReadFinishedRuns(options.out_dir + "/results.csv"));
  }
  SweepOutcome outcome;
  std::vector<SweepRow>& rows = outcome.rows;
  for (const SweepRun& run : sweep.run()) {
    if (auto done = finished.find(run.label()); done != finished.end()) {
      if (done->second.config != run.config()) {
        return absl::FailedPreconditionError("--resume: " + options.out_dir + "/results.csv has run " + run.label() +
                                             " with config " + done->second.config + ", the sweep says " +
                                             run.config() + ": resume with the same sweep file");
      }
      LOG(INFO) << "Sweep run " << rows.size() + 1 << "/" << sweep.run_size() << ": " << run.label()
                << " finished before, its row is kept";
      rows.push_back(done->second);
      continue;
    }
    ConfigRequest request;
    request.config = run.config();
    request.experiments_dir = options.experiments_dir;
    if (!options.full) request.overrides.assign(sweep.quick_budget().begin(), sweep.quick_budget().end());
    for (const std::string& text : run.override()) {
      request.overrides.push_back(ReplaceAll(text, "$SWEEP_DIR", options.out_dir));
    }
    request.overrides.insert(request.overrides.end(), options.overrides.begin(), options.overrides.end());
    absl::StatusOr<LoadedConfig> loaded = LoadTrainConfig(request);
    if (!loaded.ok()) return absl::InvalidArgumentError("sweep run " + run.label() + ": " + std::string(loaded.status().message()));
    TrainOptions train;
    train.config = *std::move(loaded);
    train.run_dir = options.out_dir + "/" + run.label();
    train.data_root = options.data_root;
    train.cache_root = options.cache_root;
    train.runs_root = options.runs_root;
    train.threads = options.threads;
    train.progress_bar = options.progress_bar;
    train.resume = options.resume && std::filesystem::exists(train.run_dir + "/checkpoints/last.ckpt");
    LOG(INFO) << "Sweep run " << rows.size() + 1 << "/" << sweep.run_size() << ": " << run.label() << " ("
              << run.config() << ")";
    absl::StatusOr<TrainResult> result = Train(train);
    if (!result.ok()) return absl::Status(result.status().code(), "sweep run " + run.label() + ": " + std::string(result.status().message()));
    if (result->stopped_by_signal != 0) {
      outcome.stopped_by_signal = result->stopped_by_signal;
      outcome.stopped_run = run.label();
      return outcome;  // results.{md,csv} already hold every finished run
    }
    SweepRow row;
    row.label = run.label();
    row.config = run.config();
    row.map = result->final_eval.map;
    row.micro_f1 = result->final_eval.micro_f1;
    row.macro_f1 = result->final_eval.macro_f1;
    row.accuracy = result->final_eval.subset_accuracy;
    row.tuned_micro_f1 = result->final_eval.tuned_micro_f1;
    row.tuned_macro_f1 = result->final_eval.tuned_macro_f1;
    row.train_seconds = result->train_seconds;
    row.images_per_second = result->images_per_second;
    row.skipped_steps = result->skipped_steps;
    rows.push_back(row);
    const std::string header = "# " + sweep.description() + "\n\nBudget: " +
                               (options.full ? std::string("each experiment's own config (--full)")
                                             : "quick (" + std::to_string(sweep.quick_budget_size()) + " overlay(s) in " +
                                                   options.sweep_path + ")") +
                               ". Accuracy is subset accuracy; tuned columns use per-class thresholds tuned on the "
                               "validation split itself (optimistic).\n\n";
    RETURN_IF_ERROR(coco::WriteFileAtomically(options.out_dir + "/results.md", header + SweepMarkdown(rows)));
    RETURN_IF_ERROR(coco::WriteFileAtomically(options.out_dir + "/results.csv", SweepCsv(rows)));
  }
  return outcome;
}

}  // namespace trainer
