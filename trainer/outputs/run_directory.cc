#include "trainer/outputs/run_directory.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/cc/atomic_file.h"
#include "tools/cc/status_macros.h"

namespace trainer {
namespace {

std::string Quote(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&out, absl::StrFormat("\\u%04x", static_cast<int>(c)));
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string Number(double value) {
  if (!std::isfinite(value)) return "null";
  return absl::StrFormat("%.9g", value);
}

}  // namespace

std::string MetricsRecordToJson(const MetricsRecord& record) {
  std::string line =
      absl::StrCat("{\"kind\": ", Quote(record.kind), ", \"step\": ", record.step, ", \"epoch\": ", record.epoch);
  for (const auto& [name, value] : record.values) absl::StrAppend(&line, ", ", Quote(name), ": ", Number(value));
  return line + "}";
}

absl::StatusOr<std::vector<MetricsRecord>> ReadMetricsJsonl(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("cannot read '" + path + "'");
  std::vector<MetricsRecord> records;
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty()) continue;
    const std::string where = absl::StrCat(path, ":", line_number);
    if (line.front() != '{' || line.back() != '}') return absl::DataLossError(where + ": not a JSON object");
    MetricsRecord record;
    size_t position = 1;
    while (position < line.size() - 1) {
      const size_t key_start = line.find('"', position);
      if (key_start == std::string::npos) break;
      const size_t key_end = line.find('"', key_start + 1);
      const size_t colon = line.find(':', key_end);
      if (key_end == std::string::npos || colon == std::string::npos) return absl::DataLossError(where + ": bad key");
      const std::string key = line.substr(key_start + 1, key_end - key_start - 1);
      size_t value_start = colon + 1;
      while (line[value_start] == ' ') ++value_start;
      size_t value_end;
      std::string value;
      if (line[value_start] == '"') {
        value_end = line.find('"', value_start + 1);
        value = line.substr(value_start + 1, value_end - value_start - 1);
        ++value_end;
      } else {
        value_end = line.find_first_of(",}", value_start);
        value = line.substr(value_start, value_end - value_start);
      }
      if (key == "kind") {
        record.kind = value;
      } else if (key == "step") {
        record.step = std::stoll(value);
      } else if (key == "epoch") {
        record.epoch = std::stoll(value);
      } else {
        record.values.emplace_back(key, value == "null" ? std::nan("") : std::stod(value));
      }
      position = value_end + 1;
    }
    records.push_back(std::move(record));
  }
  return records;
}

absl::StatusOr<std::unique_ptr<RunDirectory>> RunDirectory::Open(const std::string& path, bool tensorboard) {
  std::error_code error;
  std::filesystem::create_directories(path + "/checkpoints", error);
  if (error) return absl::UnavailableError("cannot create run directory '" + path + "': " + error.message());
  std::unique_ptr<RunDirectory> run(new RunDirectory(path));
  if (tensorboard) {
    ASSIGN_OR_RETURN(run->events_, EventWriter::Create(path));
  }
  return run;
}

absl::Status RunDirectory::WriteConfig(const std::string& config_text, const std::string& hash,
                                       const std::vector<std::string>& sources) {
  std::string header = "# Resolved config (defaults filled in), merged from:\n";
  for (const std::string& source : sources) header += "#   " + source + "\n";
  header += "# hash " + hash + "\n";
  RETURN_IF_ERROR(WriteText("config.pbtxt", header + config_text));
  return WriteText("config_hash.txt", hash + "\n");
}

absl::Status RunDirectory::Append(const MetricsRecord& record) {
  // One whole line or nothing: a failed append (disk full) is an error, and metrics.jsonl never ends in a torn line.
  RETURN_IF_ERROR(coco::AppendToFile(File("metrics.jsonl"), MetricsRecordToJson(record) + "\n"));
  if (events_ != nullptr) {
    for (const auto& [name, value] : record.values) {
      RETURN_IF_ERROR(events_->WriteScalar(record.kind + "/" + name, value, record.step));
    }
  }
  return absl::OkStatus();
}

absl::Status RunDirectory::TruncateMetricsAfter(int64_t step) {
  const std::string path = File("metrics.jsonl");
  if (!std::filesystem::exists(path)) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<MetricsRecord> records, ReadMetricsJsonl(path));
  std::string kept;
  for (const MetricsRecord& record : records) {
    if (record.step <= step) kept += MetricsRecordToJson(record) + "\n";
  }
  return coco::WriteFileAtomically(path, kept);
}

absl::Status RunDirectory::WriteText(const std::string& name, const std::string& contents) const {
  return coco::WriteFileAtomically(File(name), contents);
}

}  // namespace trainer
