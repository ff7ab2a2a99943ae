// Writes the results pages (experiments/PRETRAINING.md, RECIPE.md, RESULTS.md, RESULTS_QUICK.md) and the speed page
// (trainer/SPEED.md) from their templates and CSV tables.
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
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gflags/gflags.h"
#include "tools/cc/main_runner.h"
#include "tools/cc/status_macros.h"
#include "tools/results_page/results_page.h"

DEFINE_string(results_dir, "experiments/results",
              "The pages' templates (NAME.md.in, whose {{table:TABLE}} and {{value:TABLE:ROW:COLUMN}} placeholders "
              "name TABLE.csv beside them) and tables.csv (the date, CPU and command of each table without date, cpu "
              "and command columns of its own). Relative: from the workspace under bazel run.");
DEFINE_string(out_dir, "experiments", "Where each NAME.md.in is written as NAME.md (relative: as --results_dir).");
DEFINE_string(page_dirs, "SPEED.md=trainer",
              "Pages written elsewhere than --out_dir: comma-separated PAGE=DIR (relative: as --results_dir).");

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
  std::map<std::string, std::string> page_dirs;
  for (absl::string_view entry : absl::StrSplit(FLAGS_page_dirs, ',', absl::SkipEmpty())) {
    const std::vector<std::string> page_dir = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    if (page_dir.size() != 2 || page_dir[0].empty() || page_dir[1].empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--page_dirs: '", entry, "' is not PAGE=DIR"));
    }
    page_dirs[page_dir[0]] = page_dir[1];
  }
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
    const std::string page = name.substr(0, name.size() - 3);
    const auto page_dir = page_dirs.find(page);
    const std::string out_path =
        absl::StrCat(InWorkspace(page_dir == page_dirs.end() ? FLAGS_out_dir : page_dir->second), "/", page);
    RETURN_IF_ERROR(WritePage(path.string(), sources, out_path));
    std::cout << "wrote " << out_path << "\n";
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace coco

int main(int argc, char** argv) {
  return coco::RunMain(argc, argv,
                       "Writes the results pages and trainer/SPEED.md from their templates and CSV tables "
                       "(experiments/README.md).",
                       [](int, char**) { return coco::Run(); });
}
