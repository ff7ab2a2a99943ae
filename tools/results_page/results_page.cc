#include "tools/results_page/results_page.h"

#include <algorithm>
#include <cstddef>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tools/cc/status_macros.h"

namespace coco {
namespace {

constexpr char kTableOpen[] = "{{table:";
constexpr char kValueOpen[] = "{{value:";
constexpr char kPlaceholderClose[] = "}}";
constexpr size_t kOpenLength = sizeof(kTableOpen) - 1;  // kValueOpen's too
static_assert(sizeof(kTableOpen) == sizeof(kValueOpen));

// The columns that carry a table's source row by row (HasSourceColumns).
constexpr const char* kSourceColumns[] = {"date", "cpu", "command"};

bool IsSourceColumn(const std::string& name) {
  for (const char* source_column : kSourceColumns) {
    if (name == source_column) return true;
  }
  return false;
}

// A placeholder of the template: where it starts and ends (past its "}}"), its kind, and the text between the colon
// after the kind and the "}}".
struct Placeholder {
  size_t start = std::string::npos, end = std::string::npos;
  bool value = false;
  std::string body;
};

// The first placeholder at or after `from` (start npos if none); an unclosed one is an error.
absl::StatusOr<Placeholder> FindPlaceholder(const std::string& page_template, size_t from) {
  Placeholder placeholder;
  const size_t table = page_template.find(kTableOpen, from);
  const size_t value = page_template.find(kValueOpen, from);
  placeholder.start = std::min(table, value);
  if (placeholder.start == std::string::npos) return placeholder;
  placeholder.value = placeholder.start == value;
  const size_t body_start = placeholder.start + kOpenLength;
  const size_t close = page_template.find(kPlaceholderClose, body_start);
  if (close == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("the template has an unclosed ", placeholder.value ? kValueOpen : kTableOpen));
  }
  placeholder.body = page_template.substr(body_start, close - body_start);
  placeholder.end = close + sizeof(kPlaceholderClose) - 1;
  return placeholder;
}

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
  size_t value = 0;                                              // index of the value column
  int sd = -1, low = -1, high = -1, significant = -1, mib = -1;  // indices of the companion columns, -1 when absent
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
    take(" MiB", &column.mib);
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
  if (column.mib >= 0 && !row[column.mib].empty()) absl::StrAppend(&cell, " (", row[column.mib], ")");
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

// The table itself, in Markdown: a header row, a rule, a row per CSV row (columns combined as RenderTable says).
absl::StatusOr<std::string> RenderBody(const CsvTable& table) {
  const std::vector<Column> columns = GroupColumns(table.header);
  std::vector<std::string> names, rules;
  for (const Column& column : columns) {
    std::string name = column.name;
    if (column.mib >= 0) absl::StrAppend(&name, " (MiB)");
    if (column.low >= 0) absl::StrAppend(&name, " (95% CI)");
    names.push_back(std::move(name));
    rules.push_back("---");
  }
  std::string out = absl::StrCat("| ", absl::StrJoin(names, " | "), " |\n|", absl::StrJoin(rules, "|"), "|\n");
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
  ASSIGN_OR_RETURN(const std::string body, RenderBody(table));
  return absl::StrCat(out, body);
}

bool HasSourceColumns(const CsvTable& table) {
  return std::any_of(table.header.begin(), table.header.end(), IsSourceColumn);
}

absl::StatusOr<std::string> RenderTable(const CsvTable& table) {
  // The source columns with one value in every row, by name; the rest of the table keeps the others.
  std::map<std::string, std::string> hoisted;
  std::vector<size_t> kept;
  for (size_t i = 0; i < table.header.size(); ++i) {
    const bool same_every_row = !table.rows.empty() && std::all_of(table.rows.begin(), table.rows.end(),
                                                                   [&](const std::vector<std::string>& row) {
                                                                     return row[i] == table.rows[0][i];
                                                                   });
    if (IsSourceColumn(table.header[i]) && same_every_row) {
      hoisted[table.header[i]] = table.rows[0][i];
    } else {
      kept.push_back(i);
    }
  }
  std::vector<std::string> parts;
  if (hoisted.count("date")) parts.push_back(absl::StrCat("Date: ", hoisted["date"], "."));
  if (hoisted.count("cpu")) parts.push_back(absl::StrCat("CPU: ", hoisted["cpu"], "."));
  if (hoisted.count("command")) parts.push_back(absl::StrCat("Command: `", hoisted["command"], "`."));
  CsvTable rest;
  for (size_t i : kept) rest.header.push_back(table.header[i]);
  for (const std::vector<std::string>& row : table.rows) {
    rest.rows.emplace_back();
    for (size_t i : kept) rest.rows.back().push_back(row[i]);
  }
  ASSIGN_OR_RETURN(const std::string body, RenderBody(rest));
  return parts.empty() ? body : absl::StrCat(absl::StrJoin(parts, " "), "\n\n", body);
}

absl::StatusOr<std::string> TableValue(const CsvTable& table, const std::string& row, const std::string& column) {
  const auto column_it = std::find(table.header.begin(), table.header.end(), column);
  if (column_it == table.header.end()) return absl::NotFoundError(absl::StrCat("no column '", column, "'"));
  const std::vector<std::string>* found = nullptr;
  for (const std::vector<std::string>& cells : table.rows) {
    if (cells[0] != row) continue;
    if (found != nullptr) return absl::InvalidArgumentError(absl::StrCat("two rows '", row, "'"));
    found = &cells;
  }
  if (found == nullptr) return absl::NotFoundError(absl::StrCat("no row '", row, "'"));
  return (*found)[column_it - table.header.begin()];
}

std::vector<std::string> TablePlaceholders(const std::string& page_template) {
  std::vector<std::string> names;
  for (size_t from = 0;;) {
    const absl::StatusOr<Placeholder> placeholder = FindPlaceholder(page_template, from);
    if (!placeholder.ok() || placeholder->start == std::string::npos) break;
    names.push_back(placeholder->value ? placeholder->body.substr(0, placeholder->body.find(':')) : placeholder->body);
    from = placeholder->end;
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
  for (;;) {
    ASSIGN_OR_RETURN(const Placeholder placeholder, FindPlaceholder(page_template, done));
    if (placeholder.start == std::string::npos) break;
    std::string rendered;
    if (placeholder.value) {
      const std::vector<std::string> parts = absl::StrSplit(placeholder.body, ':');
      if (parts.size() != 3) {
        return absl::InvalidArgumentError(
            absl::StrCat("{{value:", placeholder.body, "}}: expected {{value:TABLE:ROW:COLUMN}}"));
      }
      const auto table = tables.find(parts[0]);
      if (table == tables.end()) return absl::NotFoundError(absl::StrCat("no table '", parts[0], "'"));
      const absl::StatusOr<std::string> value = TableValue(table->second, parts[1], parts[2]);
      if (!value.ok()) {
        return absl::Status(value.status().code(),
                            absl::StrCat("{{value:", placeholder.body, "}}: ", value.status().message()));
      }
      rendered = *value;
    } else {
      const std::string& name = placeholder.body;
      const auto table = tables.find(name);
      if (table == tables.end()) return absl::NotFoundError(absl::StrCat("no table '", name, "'"));
      if (HasSourceColumns(table->second)) {
        ASSIGN_OR_RETURN(rendered, RenderTable(table->second));
      } else {
        const auto source = sources.find(name);
        if (source == sources.end()) {
          return absl::NotFoundError(absl::StrCat("no date, cpu and command for table '", name, "'"));
        }
        ASSIGN_OR_RETURN(rendered, RenderTable(table->second, source->second));
      }
      // The rendered table ends in a newline, which the placeholder's own line already has.
      rendered.pop_back();
    }
    absl::StrAppend(&page, page_template.substr(done, placeholder.start - done), rendered);
    done = placeholder.end;
  }
  absl::StrAppend(&page, page_template.substr(done));
  return page;
}

}  // namespace coco
