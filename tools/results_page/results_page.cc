#include "tools/results_page/results_page.h"

#include <cstddef>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tools/cc/status_macros.h"

namespace coco {
namespace {

constexpr char kPlaceholderOpen[] = "{{table:";
constexpr char kPlaceholderClose[] = "}}";

absl::StatusOr<std::vector<std::string>> SplitCsvLine(const std::string& line, const std::string& where) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c != '"') {
        cells.back() += c;
      } else if (i + 1 < line.size() && line[i + 1] == '"') {
        cells.back() += '"';
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.emplace_back();
    } else {
      cells.back() += c;
    }
  }
  if (quoted) return absl::InvalidArgumentError(absl::StrCat(where, ": unterminated quoted cell"));
  return cells;
}

// One column of the rendered table: a value column of the CSV and its companion columns (see RenderTable).
struct Column {
  std::string name;
  size_t value = 0;                                    // index of the value column
  int sd = -1, low = -1, high = -1, significant = -1;  // indices of the companion columns, -1 when absent
};

std::vector<Column> GroupColumns(const std::vector<std::string>& header) {
  std::vector<Column> columns;
  for (size_t i = 0; i < header.size();) {
    Column column;
    column.name = header[i];
    column.value = i++;
    auto take = [&](const char* suffix, int* index) {
      if (i < header.size() && header[i] == column.name + suffix) *index = static_cast<int>(i++);
    };
    take(" sd", &column.sd);
    take(" low", &column.low);
    take(" high", &column.high);
    take(" significant", &column.significant);
    columns.push_back(column);
  }
  return columns;
}

absl::StatusOr<std::string> RenderCell(const Column& column, const std::vector<std::string>& row) {
  std::string cell = row[column.value];
  if (column.sd >= 0) absl::StrAppend(&cell, " ± ", row[column.sd]);
  if (column.low >= 0 && column.high >= 0) {
    const std::string& low = row[column.low];
    const std::string& high = row[column.high];
    if (low.empty() && high.empty()) {
      absl::StrAppend(&cell, " (same every seed)");
    } else {
      absl::StrAppend(&cell, " [", low, ", ", high, "]");
    }
  }
  if (column.significant >= 0) {
    const std::string& significant = row[column.significant];
    if (significant == "yes") {
      cell = absl::StrCat("**", cell, "**");
    } else if (significant != "no") {
      return absl::InvalidArgumentError(absl::StrCat("column '", column.name, " significant' of run '", row[0],
                                                     "' is '", significant, "', expected yes or no"));
    }
  }
  return cell;
}

}  // namespace

absl::StatusOr<CsvTable> ParseCsv(const std::string& text, const std::string& path) {
  CsvTable table;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    if (line.empty()) continue;
    const std::string where = absl::StrCat(path, ":", line_number);
    ASSIGN_OR_RETURN(std::vector<std::string> cells, SplitCsvLine(std::string(line), where));
    if (table.header.empty()) {
      table.header = std::move(cells);
    } else if (cells.size() != table.header.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", cells.size(), " cells, the header has ", table.header.size()));
    } else {
      table.rows.push_back(std::move(cells));
    }
  }
  if (table.header.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": empty, expected a header line"));
  return table;
}

absl::StatusOr<std::map<std::string, TableSource>> ParseTableSources(const CsvTable& csv, const std::string& path) {
  const std::vector<std::string> expected = {"table", "date", "date source", "cpu", "command"};
  if (csv.header != expected) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": header is '", absl::StrJoin(csv.header, ","),
                                                   "', expected '", absl::StrJoin(expected, ","), "'"));
  }
  std::map<std::string, TableSource> sources;
  for (const std::vector<std::string>& row : csv.rows) {
    const TableSource source{row[1], row[2], row[3], row[4]};
    if (source.date.empty() || source.cpu.empty() || source.command.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": table '", row[0], "' needs a date, a cpu (or 'not recorded') and a command"));
    }
    if (!sources.emplace(row[0], source).second) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": table '", row[0], "' is listed twice"));
    }
  }
  return sources;
}

absl::StatusOr<std::string> RenderTable(const CsvTable& table, const TableSource& source) {
  std::string out = absl::StrCat("Date: ", source.date);
  if (!source.date_source.empty()) absl::StrAppend(&out, " (", source.date_source, ")");
  absl::StrAppend(&out, ". CPU: ", source.cpu, ". Command: `", source.command, "`.\n\n");

  const std::vector<Column> columns = GroupColumns(table.header);
  std::vector<std::string> names, rules;
  for (const Column& column : columns) {
    names.push_back(column.low >= 0 ? absl::StrCat(column.name, " (95% CI)") : column.name);
    rules.push_back("---");
  }
  absl::StrAppend(&out, "| ", absl::StrJoin(names, " | "), " |\n|", absl::StrJoin(rules, "|"), "|\n");
  for (const std::vector<std::string>& row : table.rows) {
    std::vector<std::string> cells;
    for (const Column& column : columns) {
      ASSIGN_OR_RETURN(std::string cell, RenderCell(column, row));
      cells.push_back(std::move(cell));
    }
    absl::StrAppend(&out, "| ", absl::StrJoin(cells, " | "), " |\n");
  }
  return out;
}

std::vector<std::string> TablePlaceholders(const std::string& page_template) {
  std::vector<std::string> names;
  for (size_t start = page_template.find(kPlaceholderOpen); start != std::string::npos;
       start = page_template.find(kPlaceholderOpen, start + 1)) {
    const size_t name_start = start + sizeof(kPlaceholderOpen) - 1;
    const size_t end = page_template.find(kPlaceholderClose, name_start);
    if (end == std::string::npos) break;
    names.push_back(page_template.substr(name_start, end - name_start));
  }
  return names;
}

absl::StatusOr<std::string> RenderPage(const std::string& page_template, const std::map<std::string, CsvTable>& tables,
                                       const std::map<std::string, TableSource>& sources,
                                       const std::string& regenerate_command) {
  std::string page =
      absl::StrCat("<!-- Generated from experiments/results/: edit the CSV files or the template there, ", "then run `",
                   regenerate_command, "`. -->\n");
  size_t done = 0;
  for (size_t start = page_template.find(kPlaceholderOpen); start != std::string::npos;
       start = page_template.find(kPlaceholderOpen, done)) {
    const size_t name_start = start + sizeof(kPlaceholderOpen) - 1;
    const size_t end = page_template.find(kPlaceholderClose, name_start);
    if (end == std::string::npos) return absl::InvalidArgumentError("the template has an unclosed {{table:");
    const std::string name = page_template.substr(name_start, end - name_start);
    const auto table = tables.find(name);
    const auto source = sources.find(name);
    if (table == tables.end()) return absl::NotFoundError(absl::StrCat("no table '", name, "'"));
    if (source == sources.end()) {
      return absl::NotFoundError(absl::StrCat("no date, cpu and command for table '", name, "'"));
    }
    ASSIGN_OR_RETURN(std::string rendered, RenderTable(table->second, source->second));
    // The rendered table ends in a newline, which the placeholder's own line already has.
    rendered.pop_back();
    absl::StrAppend(&page, page_template.substr(done, start - done), rendered);
    done = end + sizeof(kPlaceholderClose) - 1;
  }
  absl::StrAppend(&page, page_template.substr(done));
  return page;
}

}  // namespace coco
