// Renders a Markdown results page from a template whose {{table:NAME}} placeholders name CSV tables.
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
//   "X", "X sd"                          -> one column "X":            "mean ± sd"
//   "X", "X low", "X high"               -> one column "X (95% CI)":   "d [low, high]", or "d (same every seed)"
//                                           when low and high are empty (a difference identical for every seed)
//   "... X significant" (yes / no) after either -> the cell in bold when yes.
// Other columns are copied as they are.
absl::StatusOr<std::string> RenderTable(const CsvTable& table, const TableSource& source);

// The names in the template's {{table:NAME}} placeholders, in order of appearance.
std::vector<std::string> TablePlaceholders(const std::string& page_template);

// The page: the template with each placeholder replaced by its rendered table, after a first line saying the page is
// generated and how to regenerate it (`regenerate_command`). Every placeholder needs a table and a source.
absl::StatusOr<std::string> RenderPage(const std::string& page_template, const std::map<std::string, CsvTable>& tables,
                                       const std::map<std::string, TableSource>& sources,
                                       const std::string& regenerate_command);

}  // namespace coco

#endif  // TOOLS_RESULTS_PAGE_RESULTS_PAGE_H_
