#include "trainer/sweep_runner.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "glog/logging.h"
#include "metrics/statistics.h"
#include "tools/cc/atomic_file.h"
#include "tools/cc/status_macros.h"
#include "trainer/config/config.pb.h"
#include "trainer/config/config_loader.h"
#include "trainer/trainer.h"

namespace trainer {
namespace {

class SweepErrors : public google::protobuf::io::ErrorCollector {
 public:
  explicit SweepErrors(std::string source) : source_(std::move(source)) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column, const std::string& message) override {
    absl::StrAppend(&text_, text_.empty() ? "" : "\n", source_, ":", line + 1, ":", column + 1, ": ", message);
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

std::string Percent(double value) { return absl::StrFormat("%.2f", 100 * value); }

// Appends the set fields of `message` below `prefix` to `out`.
void FlattenSetFields(const google::protobuf::Message& message, const std::string& prefix, std::vector<HParam>& out) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Reflection& reflection = *message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection.ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    const int count = field->is_repeated() ? reflection.FieldSize(message, field) : 1;
    for (int i = 0; i < count; ++i) {
      const std::string name =
          absl::StrCat(prefix, field->name(), field->is_repeated() ? absl::StrCat("[", i, "]") : std::string());
      const bool repeated = field->is_repeated();
      switch (field->cpp_type()) {
        case FieldDescriptor::CPPTYPE_MESSAGE:
          FlattenSetFields(
              repeated ? reflection.GetRepeatedMessage(message, field, i) : reflection.GetMessage(message, field),
              name + ".", out);
          break;
        case FieldDescriptor::CPPTYPE_BOOL:
          out.push_back(
              {name, repeated ? reflection.GetRepeatedBool(message, field, i) : reflection.GetBool(message, field)});
          break;
        case FieldDescriptor::CPPTYPE_STRING:
          out.push_back({name, repeated ? reflection.GetRepeatedString(message, field, i)
                                        : reflection.GetString(message, field)});
          break;
        case FieldDescriptor::CPPTYPE_ENUM:
          out.push_back(
              {name, (repeated ? reflection.GetRepeatedEnum(message, field, i) : reflection.GetEnum(message, field))
                         ->name()});
          break;
        default: {
          // Every numeric type, through its text form (exact for the integers a config holds).
          std::string text;
          google::protobuf::TextFormat::PrintFieldValueToString(message, field, repeated ? i : -1, &text);
          out.push_back({name, std::strtod(text.c_str(), nullptr)});
        }
      }
    }
  }
}

constexpr char kCsvHeader[] =
    "run,config,seed,mAP,micro_f1,macro_f1,accuracy,tuned_micro_f1,tuned_macro_f1,val_tuned_micro_f1,"
    "val_tuned_macro_f1,calibration_images,train_seconds,images_per_second,skipped_steps";
constexpr int kCsvFields = 15;

// A column of the markdown tables: a metric of SweepRow, shown in percent (quality metrics, which also get a paired
// difference column) or with a fixed number of decimals.
struct Column {
  const char* name;
  double SweepRow::*field;
  int decimals;  // kPercent: percent
};

constexpr int kPercent = -1;

const std::vector<Column>& Columns() {
  static const auto* columns = new std::vector<Column>{
      {"mAP", &SweepRow::map, kPercent},
      {"micro-F1", &SweepRow::micro_f1, kPercent},
      {"macro-F1", &SweepRow::macro_f1, kPercent},
      {"accuracy", &SweepRow::accuracy, kPercent},
      {"tuned micro-F1", &SweepRow::tuned_micro_f1, kPercent},
      {"tuned macro-F1", &SweepRow::tuned_macro_f1, kPercent},
      {"val-tuned micro-F1 (oracle)", &SweepRow::val_tuned_micro_f1, kPercent},
      {"train time (s)", &SweepRow::train_seconds, 0},
      {"images/s", &SweepRow::images_per_second, 1},
  };
  return *columns;
}

// The paired-difference table leaves out the oracle and the speed columns.
bool HasDifferenceColumn(const Column& column) {
  return column.decimals == kPercent && column.field != &SweepRow::val_tuned_micro_f1;
}

std::string Value(const Column& column, double value) {
  return column.decimals == kPercent ? Percent(value) : absl::StrFormat("%.*f", column.decimals, value);
}

// "8.00 ± 0.41" over the seeds; a single seed has no standard deviation.
std::string MeanAndDeviation(const Column& column, const std::vector<double>& values) {
  const double mean = metrics::Mean(values);
  if (values.size() < 2) return Value(column, mean);
  return Value(column, mean) + " ± " + Value(column, metrics::SampleStandardDeviation(values));
}

std::string Signed(double value) { return absl::StrFormat("%+.2f", 100 * value); }

// "+0.93 [-0.41, +2.27]" in percentage points, bold when the interval excludes 0; "+0.93 (n/a)" below two pairs.
// Differences identical for every seed (metrics that move in coarse steps, such as accuracy on a few hundred images,
// with few seeds) give a zero-width interval that says nothing about the noise: "+0.20 (same every seed)", not bold.
// Identical up to floating-point rounding counts as identical: k/500 - j/500 differs in its last bits between seeds.
std::string DifferenceCell(const metrics::PairedDifference& difference) {
  constexpr double kRounding = 1e-12;  // far below any real difference of metrics in [0, 1] on a few hundred images
  if (!difference.defined) return Signed(difference.mean) + " (n/a)";
  if (difference.standard_deviation < kRounding) return Signed(difference.mean) + " (same every seed)";
  const std::string cell =
      Signed(difference.mean) + " [" + Signed(difference.low()) + ", " + Signed(difference.high()) + "]";
  return difference.ExcludesZero() ? "**" + cell + "**" : cell;
}

}  // namespace

namespace {

// The rows of a previous invocation's results.csv, by run label and seed; none when the sweep never finished a run.
absl::StatusOr<std::map<std::pair<std::string, int>, SweepRow>> ReadFinishedRuns(const std::string& path) {
  std::map<std::pair<std::string, int>, SweepRow> finished;
  std::ifstream in(path);
  if (!in) return finished;
  std::stringstream text;
  text << in.rdbuf();
  ASSIGN_OR_RETURN(std::vector<SweepRow> rows, ParseSweepCsv(text.str(), path));
  for (SweepRow& row : rows) finished[{row.label, row.seed}] = std::move(row);
  return finished;
}

}  // namespace

namespace {

// results.md's preamble: what was run, and how to read the tables.
std::string SweepHeader(const SweepConfig& sweep, const SweepOptions& options, int seeds,
                        const std::vector<SweepRow>& rows) {
  std::string without_calibration;
  for (const SweepRow& row : rows) {
    if (row.calibration_images == 0 && without_calibration.find(" " + row.label + ",") == std::string::npos) {
      without_calibration += " " + row.label + ",";
    }
  }
  std::string header = absl::StrCat(
      "# ", sweep.description(), "\n\nBudget: ",
      options.full ? std::string("each experiment's own config (--full)")
                   : absl::StrCat("quick (", sweep.quick_budget_size(), " overlay(s) in ", options.sweep_path, ")"),
      ". Seeds: ", seeds, " (training.seed 0", seeds > 1 ? absl::StrCat("..", seeds - 1) : std::string(),
      "; each moves the initial weights, the data order and augmentation, not the data); cells are the mean",
      seeds > 1 ? " ± sample standard deviation" : "",
      " over seeds. Accuracy is subset accuracy. Tuned columns: per-class thresholds tuned on each run's "
      "calibration split (training images held out of training, data.calibration_fraction) and applied to the "
      "validation split; val-tuned (oracle) tunes them on the validation split itself, an optimistic upper bound.");
  if (!without_calibration.empty()) {
    without_calibration.pop_back();
    header += " Runs without a calibration split (data.calibration_fraction 0), whose tuned columns are val-tuned:" +
              without_calibration + ".";
  }
  return header + "\n\n";
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
    if (run.label().empty() ||
        run.label().find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") !=
            std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": run ", i, ": label must be [A-Za-z0-9_.-]+, got \"", run.label(), "\""));
    }
    if (run.config().empty()) return absl::InvalidArgumentError(path + ": run " + run.label() + ": config is empty");
  }
  if (config.seeds() < 1 || config.seeds() > 100) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": seeds must be in [1, 100], got ", config.seeds()));
  }
  return config;
}

std::string SweepMarkdown(const std::vector<SweepRow>& rows) {
  std::vector<std::string> labels;  // in order of first appearance
  std::map<std::string, std::vector<const SweepRow*>> by_label;
  for (const SweepRow& row : rows) {
    if (by_label[row.label].empty()) labels.push_back(row.label);
    by_label[row.label].push_back(&row);
  }
  std::string table = "| run | config | seeds |";
  std::string rule = "|---|---|---|";
  for (const Column& column : Columns()) table += " " + std::string(column.name) + " |", rule += "---|";
  table += " skipped steps |\n" + rule + "---|\n";
  for (const std::string& label : labels) {
    const std::vector<const SweepRow*>& runs = by_label[label];
    int64_t skipped = 0;
    for (const SweepRow* run : runs) skipped += run->skipped_steps;
    absl::StrAppend(&table, "| ", label, " | ", runs.front()->config, " | ", runs.size(), " |");
    for (const Column& column : Columns()) {
      std::vector<double> values;
      for (const SweepRow* run : runs) values.push_back(run->*column.field);
      table += " " + MeanAndDeviation(column, values) + " |";
    }
    absl::StrAppend(&table, " ", skipped, " |\n");
  }
  if (labels.size() < 2) return table;

  // Paired by seed: each run against the baseline trained with the same seed.
  std::map<int, const SweepRow*> baseline;
  for (const SweepRow* run : by_label[labels.front()]) baseline[run->seed] = run;
  table += "\nDifference to " + labels.front() + " in percentage points: the mean over seeds of (run - " +
           labels.front() +
           ") with the same seed, and its 95 % interval (Student's t, pairs - 1 degrees of freedom); **bold**: the "
           "interval excludes 0, a difference larger than the seed-to-seed noise; n/a: fewer than two seeds; "
           "same every seed: a difference identical for every seed, so no interval (never bold).\n\n"
           "| run | pairs |";
  rule = "|---|---|";
  for (const Column& column : Columns()) {
    if (HasDifferenceColumn(column)) table += " " + std::string(column.name) + " (95% CI) |", rule += "---|";
  }
  table += "\n" + rule + "\n";
  for (size_t l = 1; l < labels.size(); ++l) {
    std::vector<const SweepRow*> runs, bases;
    for (const SweepRow* run : by_label[labels[l]]) {
      if (auto base = baseline.find(run->seed); base != baseline.end())
        runs.push_back(run), bases.push_back(base->second);
    }
    absl::StrAppend(&table, "| ", labels[l], " | ", runs.size(), " |");
    for (const Column& column : Columns()) {
      if (!HasDifferenceColumn(column)) continue;
      if (runs.empty()) {
        table += " - |";
        continue;
      }
      std::vector<double> a, b;
      for (size_t i = 0; i < runs.size(); ++i)
        a.push_back(runs[i]->*column.field), b.push_back(bases[i]->*column.field);
      table += " " + DifferenceCell(metrics::PairedDifference95(a, b)) + " |";
    }
    table += "\n";
  }
  return table;
}

absl::StatusOr<std::vector<SweepRow>> ParseSweepCsv(const std::string& text, const std::string& path) {
  std::vector<SweepRow> rows;
  std::istringstream lines(text);
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    if (++number == 1) {
      if (line != kCsvHeader) {
        return absl::InvalidArgumentError(path + ":1: expected the header \"" + std::string(kCsvHeader) + "\", got \"" +
                                          line +
                                          "\" (a sweep written before seeds and calibration-split thresholds "
                                          "cannot be resumed: start a new one)");
      }
      continue;
    }
    if (line.empty()) continue;
    std::vector<std::string> fields;
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) fields.push_back(cell);
    SweepRow row;
    bool valid = fields.size() == kCsvFields;
    const auto integer = [&](const std::string& field, auto& out) {
      char* end = nullptr;
      out = std::strtoll(field.c_str(), &end, 10);
      valid = valid && !field.empty() && *end == '\0';
    };
    if (valid) {
      row.label = fields[0];
      row.config = fields[1];
      integer(fields[2], row.seed);
      double* numbers[] = {&row.map,
                           &row.micro_f1,
                           &row.macro_f1,
                           &row.accuracy,
                           &row.tuned_micro_f1,
                           &row.tuned_macro_f1,
                           &row.val_tuned_micro_f1,
                           &row.val_tuned_macro_f1};
      for (int i = 0; i < 8 && valid; ++i) {
        char* end = nullptr;
        *numbers[i] = std::strtod(fields[3 + i].c_str(), &end);
        valid = !fields[3 + i].empty() && *end == '\0';
      }
      integer(fields[11], row.calibration_images);
      for (int i = 0; i < 2 && valid; ++i) {
        char* end = nullptr;
        (i == 0 ? row.train_seconds : row.images_per_second) = std::strtod(fields[12 + i].c_str(), &end);
        valid = !fields[12 + i].empty() && *end == '\0';
      }
      integer(fields[14], row.skipped_steps);
    }
    if (!valid) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number, ": expected ", kCsvFields,
                       " comma-separated fields (run, config, seed, 8 metrics, calibration images, "
                       "2 speeds, skipped steps) as SweepCsv writes them, got \"",
                       line, "\""));
    }
    rows.push_back(row);
  }
  return rows;
}

std::string SweepCsv(const std::vector<SweepRow>& rows) {
  std::string csv = std::string(kCsvHeader) + "\n";
  for (const SweepRow& row : rows) {
    absl::StrAppend(&csv, row.label, ",", row.config, ",", row.seed);
    for (double value : {row.map, row.micro_f1, row.macro_f1, row.accuracy, row.tuned_micro_f1, row.tuned_macro_f1,
                         row.val_tuned_micro_f1, row.val_tuned_macro_f1}) {
      absl::StrAppend(&csv, absl::StrFormat(",%.6f", value));
    }
    absl::StrAppend(&csv, absl::StrFormat(",%d,%.2f,%.2f,%d\n", row.calibration_images, row.train_seconds,
                                          row.images_per_second, row.skipped_steps));
  }
  return csv;
}

SweepRow SweepRowOf(const SweepRun& run, int seed, const TrainResult& result) {
  SweepRow row;
  row.label = run.label();
  row.config = run.config();
  row.seed = seed;
  // With optimizer.ema the raw weights train as without it (up to the random draws the EMA's model copy takes when
  // built, which move dropout's masks as another seed would), so their row would measure seed noise: the row is the
  // EMA weights' final evaluation, what the EMA adds (and not the better of the two, which would be a choice on val).
  const EvalSummary& eval = result.final_ema_eval ? *result.final_ema_eval : result.final_eval;
  row.map = eval.map;
  row.micro_f1 = eval.micro_f1;
  row.macro_f1 = eval.macro_f1;
  row.accuracy = eval.subset_accuracy;
  row.tuned_micro_f1 = eval.tuned_micro_f1;
  row.tuned_macro_f1 = eval.tuned_macro_f1;
  row.val_tuned_micro_f1 = eval.val_tuned_micro_f1;
  row.val_tuned_macro_f1 = eval.val_tuned_macro_f1;
  row.calibration_images = eval.calibration_samples;
  row.train_seconds = result.train_seconds;
  row.images_per_second = result.images_per_second;
  row.skipped_steps = result.skipped_steps;
  return row;
}

std::vector<HParam> SweepRunHparams(const SweepRun& run, int seed) {
  std::vector<HParam> hparams = {{"run", run.label()}, {"config", run.config()}, {"seed", double(seed)}};
  for (int i = 0; i < run.override_size(); ++i) {
    TrainConfig fields;
    google::protobuf::TextFormat::Parser parser;
    SweepErrors quiet("override");  // a parse error is handled by keeping the text; LoadTrainConfig reports it
    parser.RecordErrorsTo(&quiet);
    if (parser.ParseFromString(run.override(i), &fields)) {
      fields.mutable_training()->clear_seed();  // the sweep's seed replaces it: "seed" above
      if (fields.has_training() && fields.training().ByteSizeLong() == 0) fields.clear_training();
      FlattenSetFields(fields, "", hparams);
    } else {
      hparams.push_back({absl::StrCat("override[", i, "]"), run.override(i)});
    }
  }
  return hparams;
}

std::vector<std::string> SweepMetricTags() {
  return {"val/mAP", "val/micro_f1", "val/macro_f1", "val/tuned_micro_f1", "val/tuned_macro_f1"};
}

absl::StatusOr<SweepOutcome> RunSweep(const SweepOptions& options) {
  ASSIGN_OR_RETURN(SweepConfig sweep, ReadSweepConfig(options.sweep_path));
  const int seeds = options.seeds > 0 ? options.seeds : sweep.seeds();
  if (seeds > 100) return absl::InvalidArgumentError(absl::StrCat("--seeds must be in [1, 100], got ", seeds));
  std::error_code error;
  std::filesystem::create_directories(options.out_dir, error);
  if (error) return absl::UnavailableError("cannot create '" + options.out_dir + "': " + error.message());
  std::map<std::pair<std::string, int>, SweepRow> finished;
  if (options.resume) {
    ASSIGN_OR_RETURN(finished, ReadFinishedRuns(options.out_dir + "/results.csv"));
    for (const auto& [key, row] : finished) {
      if (key.second >= seeds) {
        return absl::FailedPreconditionError(absl::StrCat(
            "--resume: ", options.out_dir, "/results.csv has run ", key.first, " with seed ", key.second,
            " but this invocation runs seeds 0..", seeds - 1, ": resume with --seeds=", key.second + 1, " or more"));
      }
    }
  }
  {
    // The HParams view's experiment, in the sweep's root (the directory above every run): each hyperparameter any run
    // sets, in order of first appearance, and the metrics. A resumed sweep writes it again in a new file (the same).
    std::vector<HParam> all_hparams;
    std::set<std::string> seen;
    for (const SweepRun& run : sweep.run()) {
      for (HParam& hparam : SweepRunHparams(run, 0)) {
        if (seen.insert(hparam.name).second) all_hparams.push_back(std::move(hparam));
      }
    }
    ASSIGN_OR_RETURN(std::unique_ptr<EventWriter> events, EventWriter::Create(options.out_dir));
    RETURN_IF_ERROR(events->WriteHparamsExperiment(sweep.description(), all_hparams, SweepMetricTags()));
  }
  SweepOutcome outcome;
  std::vector<SweepRow>& rows = outcome.rows;
  const int total = seeds * sweep.run_size();
  // Seed by seed, so that a run can start from an earlier run of its seed ($SEED_DIR) and the first seed's table is
  // complete first.
  for (int seed = 0; seed < seeds; ++seed) {
    const std::string seed_dir = absl::StrCat(options.out_dir, "/seed_", seed);
    for (const SweepRun& run : sweep.run()) {
      const std::string name = absl::StrCat(run.label(), " (seed ", seed, ")");
      const std::string progress = absl::StrCat(rows.size() + 1, "/", total);
      if (auto done = finished.find({run.label(), seed}); done != finished.end()) {
        if (done->second.config != run.config()) {
          return absl::FailedPreconditionError("--resume: " + options.out_dir + "/results.csv has run " + run.label() +
                                               " with config " + done->second.config + ", the sweep says " +
                                               run.config() + ": resume with the same sweep file");
        }
        LOG(INFO) << "Sweep run " << progress << ": " << name << " finished before, its row is kept";
        rows.push_back(done->second);
        continue;
      }
      ConfigRequest request;
      request.config = run.config();
      request.experiments_dir = options.experiments_dir;
      if (!options.full) request.overrides.assign(sweep.quick_budget().begin(), sweep.quick_budget().end());
      for (const std::string& text : run.override()) {
        request.overrides.push_back(ReplaceAll(ReplaceAll(text, "$SEED_DIR", seed_dir), "$SWEEP_DIR", options.out_dir));
      }
      request.overrides.insert(request.overrides.end(), options.overrides.begin(), options.overrides.end());
      request.overrides.push_back(absl::StrCat("training { seed: ", seed, " }"));  // last: the sweep's seed wins
      absl::StatusOr<LoadedConfig> loaded = LoadTrainConfig(request);
      if (!loaded.ok()) {
        return absl::InvalidArgumentError("sweep run " + name + ": " + std::string(loaded.status().message()));
      }
      TrainOptions train;
      train.config = *std::move(loaded);
      train.run_dir = seed_dir + "/" + run.label();
      train.data_root = options.data_root;
      train.cache_root = options.cache_root;
      train.runs_root = options.runs_root;
      train.threads = options.threads;
      train.progress_bar = options.progress_bar;
      train.resume = options.resume && std::filesystem::exists(train.run_dir + "/checkpoints/last.ckpt");
      train.hparams = SweepRunHparams(run, seed);
      train.hparams_group = run.label();  // its seeds are one group
      LOG(INFO) << "Sweep run " << progress << ": " << name << ", config " << run.config();
      absl::StatusOr<TrainResult> result = Train(train);
      if (!result.ok()) {
        return absl::Status(result.status().code(),
                            "sweep run " + name + ": " + std::string(result.status().message()));
      }
      if (result->stopped_by_signal != 0) {
        outcome.stopped_by_signal = result->stopped_by_signal;
        outcome.stopped_run = run.label();
        outcome.stopped_seed = seed;
        return outcome;  // results.{md,csv} already hold every finished run
      }
      rows.push_back(SweepRowOf(run, seed, *result));
      RETURN_IF_ERROR(coco::WriteFileAtomically(options.out_dir + "/results.md",
                                                SweepHeader(sweep, options, seeds, rows) + SweepMarkdown(rows)));
      RETURN_IF_ERROR(coco::WriteFileAtomically(options.out_dir + "/results.csv", SweepCsv(rows)));
    }
  }
  return outcome;
}

}  // namespace trainer
