// Writes the results pages (experiments/RESULTS.md, RESULTS_QUICK.md) from their templates and CSV tables.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gflags/gflags.h"
#include "tools/cc/main_runner.h"
#include "tools/cc/status_macros.h"
#include "tools/results_page/results_page.h"

DEFINE_string(results_dir, "experiments/results",
              "The pages' templates (NAME.md.in, whose {{table:TABLE}} placeholders name TABLE.csv beside them) and "
              "tables.csv (each table's date, CPU and command). Relative: from the workspace under bazel run.");
DEFINE_string(out_dir, "experiments", "Where each NAME.md.in is written as NAME.md (relative: as --results_dir).");

namespace coco {
namespace {

// Relative paths name files in the checkout, also under `bazel run` (which runs in the runfiles tree).
std::string InWorkspace(const std::string& path) {
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  if (path.empty() || path[0] == '/' || workspace == nullptr) return path;
  return absl::StrCat(workspace, "/", path);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<CsvTable> ReadCsv(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string text, ReadFile(path));
  return ParseCsv(text, path);
}

absl::Status WritePage(const std::string& template_path, const std::map<std::string, TableSource>& sources,
                       const std::string& out_path) {
  ASSIGN_OR_RETURN(const std::string page_template, ReadFile(template_path));
  std::map<std::string, CsvTable> tables;
  for (const std::string& name : TablePlaceholders(page_template)) {
    ASSIGN_OR_RETURN(tables[name], ReadCsv(absl::StrCat(InWorkspace(FLAGS_results_dir), "/", name, ".csv")));
  }
  ASSIGN_OR_RETURN(const std::string page,
                   RenderPage(page_template, tables, sources, "bazel run //experiments:make_results_page"));
  std::ofstream out(out_path, std::ios::binary);
  out << page;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", out_path));
  return absl::OkStatus();
}

absl::Status Run() {
  const std::filesystem::path results_dir = InWorkspace(FLAGS_results_dir);
  const std::string sources_path = (results_dir / "tables.csv").string();
  ASSIGN_OR_RETURN(const CsvTable sources_csv, ReadCsv(sources_path));
  ASSIGN_OR_RETURN(const auto sources, ParseTableSources(sources_csv, sources_path));

  std::vector<std::filesystem::path> templates;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(results_dir, error)) {
    if (absl::EndsWith(entry.path().filename().string(), ".md.in")) templates.push_back(entry.path());
  }
  if (error) return absl::NotFoundError(absl::StrCat("cannot list ", results_dir.string(), ": ", error.message()));
  if (templates.empty()) return absl::NotFoundError(absl::StrCat("no *.md.in template in ", results_dir.string()));
  std::sort(templates.begin(), templates.end());
  for (const std::filesystem::path& path : templates) {
    const std::string name = path.filename().string();
    const std::string out_path = absl::StrCat(InWorkspace(FLAGS_out_dir), "/", name.substr(0, name.size() - 3));
    RETURN_IF_ERROR(WritePage(path.string(), sources, out_path));
    std::cout << "wrote " << out_path << "\n";
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace coco

int main(int argc, char** argv) {
  return coco::RunMain(argc, argv,
                       "Writes the results pages from their templates and CSV tables (experiments/README.md).",
                       [](int, char**) { return coco::Run(); });
}
