// Renders a Markdown results page from a template whose {{table:NAME}} and {{value:NAME:ROW:COLUMN}} placeholders
// name CSV tables.
#ifndef TOOLS_RESULTS_PAGE_RESULTS_PAGE_H_
#define TOOLS_RESULTS_PAGE_RESULTS_PAGE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace coco {

// A CSV file: its header and rows, every cell kept as the exact text written (figures are never re-formatted).
struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

// Comma-separated, one row per line, a header first; a cell may be double-quoted ("" inside is a quote). Every row
// must have the header's number of cells. Errors name `path` and the line.
absl::StatusOr<CsvTable> ParseCsv(const std::string& text, const std::string& path);

// Where a table's figures come from: one row of the metadata CSV (columns table, date, date source, cpu, command).
struct TableSource {
  std::string date;         // when the figures were recorded (YYYY-MM-DD)
  std::string date_source;  // how the date is known, e.g. "commit be1ed6b's date"; may be empty
  std::string cpu;          // the CPU model, or "not recorded"
  std::string command;      // the command that reproduces the table
};

// The metadata CSV's rows by table name.
absl::StatusOr<std::map<std::string, TableSource>> ParseTableSources(const CsvTable& csv, const std::string& path);

// The table as Markdown, after a line with its date, CPU and command. Columns combine by name:
//   "X", "X MiB"                         -> one column "X (MiB)":      "x (MiB)", or "x" when the MiB cell is empty
//   "X", "X sd"                          -> one column "X":            "mean ± sd"
//   "X", "X low", "X high"               -> one column "X (95% CI)":   "d [low, high]", or "d (same every seed)"
//                                           when low and high are empty (a difference identical for every seed)
//   "... X significant" (yes / no) after either -> the cell in bold when yes.
// Other columns are copied as they are.
absl::StatusOr<std::string> RenderTable(const CsvTable& table, const TableSource& source);

// Whether the table carries its own source, one per row, in columns named "date", "cpu" and "command" (any of them).
bool HasSourceColumns(const CsvTable& table);

// A table with source columns as Markdown: the source columns with one value in every row go into the line before the
// table (as RenderTable's, without the parts whose column is absent or varies), the others stay columns of the table.
absl::StatusOr<std::string> RenderTable(const CsvTable& table);

// The cell in column `column` of the row whose first cell is `row`, as written.
absl::StatusOr<std::string> TableValue(const CsvTable& table, const std::string& row, const std::string& column);

// The table names in the template's {{table:NAME}} and {{value:NAME:ROW:COLUMN}} placeholders, in order of
// appearance (repeats kept).
std::vector<std::string> TablePlaceholders(const std::string& page_template);

// The page: the template with each {{table:NAME}} replaced by its rendered table and each {{value:NAME:ROW:COLUMN}} by
// that cell (TableValue), after a first line saying the page is generated and how to regenerate it
// (`regenerate_command`). Every placeholder needs its table; a {{table:NAME}} needs a source in `sources` unless the
// table has source columns (HasSourceColumns).
absl::StatusOr<std::string> RenderPage(const std::string& page_template, const std::map<std::string, CsvTable>& tables,
                                       const std::map<std::string, TableSource>& sources,
                                       const std::string& regenerate_command);

}  // namespace coco

#endif  // TOOLS_RESULTS_PAGE_RESULTS_PAGE_H_
