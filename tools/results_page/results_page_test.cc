#include "tools/results_page/results_page.h"

#include <map>
#include <string>

#include "gtest/gtest.h"

namespace coco {
namespace {

const TableSource kSource{"2026-11-29", "commit abc1234's date", "not recorded", "bazel run //x:y -- --full"};

TEST(ParseCsvTest, KeepsCellTextExactlyAndUnquotes) {
  const absl::StatusOr<CsvTable> table = ParseCsv("a,b\n-0.00,\"x, \"\"y\"\"\"\n+1.20,\n", "t.csv");
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->header, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(table->rows.size(), 2u);
  EXPECT_EQ(table->rows[0], (std::vector<std::string>{"-0.00", "x, \"y\""}));
  EXPECT_EQ(table->rows[1], (std::vector<std::string>{"+1.20", ""}));
}

TEST(ParseCsvTest, RowWithWrongCellCountNamesFileAndLine) {
  const absl::StatusOr<CsvTable> table = ParseCsv("a,b\n1,2\n3\n", "t.csv");
  ASSERT_FALSE(table.ok());
  EXPECT_NE(table.status().message().find("t.csv:3"), std::string::npos) << table.status();
}

TEST(RenderTableTest, CombinesMeanAndSdColumns) {
  const CsvTable table{{"run", "mAP", "mAP sd", "skipped steps"}, {{"bce", "11.25", "1.86", "0"}}};
  const absl::StatusOr<std::string> text = RenderTable(table, kSource);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text,
            "Date: 2026-11-29 (commit abc1234's date). CPU: not recorded. Command: `bazel run //x:y -- --full`.\n\n"
            "| run | mAP | skipped steps |\n|---|---|---|\n| bce | 11.25 ± 1.86 | 0 |\n");
}

TEST(RenderTableTest, IntervalsBoldWhenSignificantAndSameEverySeed) {
  const CsvTable table{{"run", "mAP", "mAP low", "mAP high", "mAP significant"},
                       {{"asl", "-5.08", "-8.45", "-1.70", "yes"}, {"poly", "+1.20", "", "", "no"}}};
  const absl::StatusOr<std::string> text = RenderTable(table, kSource);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_NE(text->find("| run | mAP (95% CI) |\n|---|---|\n"), std::string::npos) << *text;
  EXPECT_NE(text->find("| asl | **-5.08 [-8.45, -1.70]** |\n"), std::string::npos) << *text;
  EXPECT_NE(text->find("| poly | +1.20 (same every seed) |\n"), std::string::npos) << *text;
}

TEST(RenderTableTest, CombinesValueAndMibColumns) {
  const CsvTable table{{"setting", "ours", "ours MiB", "reference", "reference MiB"},
                       {{"eval fp32", "256.96", "385", "141.80", "748"}, {"eval bf16", "828.77", "254", "", ""}}};
  const absl::StatusOr<std::string> text = RenderTable(table, kSource);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_NE(text->find("| setting | ours (MiB) | reference (MiB) |\n|---|---|---|\n"), std::string::npos) << *text;
  EXPECT_NE(text->find("| eval fp32 | 256.96 (385) | 141.80 (748) |\n"), std::string::npos) << *text;
  EXPECT_NE(text->find("| eval bf16 | 828.77 (254) |  |\n"), std::string::npos) << *text;
}

TEST(RenderTableTest, SignificantMustBeYesOrNo) {
  const CsvTable table{{"run", "mAP", "mAP significant"}, {{"asl", "-5.08", "maybe"}}};
  EXPECT_FALSE(RenderTable(table, kSource).ok());
}

TEST(RenderPageTest, ReplacesPlaceholdersAndKeepsProse) {
  const std::string page_template = "# Title\n\nProse.\n\n{{table:t}}\n\nMore prose.\n";
  EXPECT_EQ(TablePlaceholders(page_template), std::vector<std::string>{"t"});
  const std::map<std::string, CsvTable> tables = {{"t", CsvTable{{"run"}, {{"bce"}}}}};
  const absl::StatusOr<std::string> page = RenderPage(page_template, tables, {{"t", kSource}}, "regen");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(*page,
            "<!-- Generated from experiments/results/: edit the CSV files or the template there, then run `regen`. "
            "-->\n# Title\n\nProse.\n\n"
            "Date: 2026-11-29 (commit abc1234's date). CPU: not recorded. Command: `bazel run //x:y -- --full`.\n\n"
            "| run |\n|---|\n| bce |\n\nMore prose.\n");
}

TEST(RenderPageTest, MissingTableOrSourceIsAnError) {
  const std::map<std::string, CsvTable> tables = {{"t", CsvTable{{"run"}, {}}}};
  EXPECT_FALSE(RenderPage("{{table:u}}\n", tables, {{"u", kSource}}, "regen").ok());
  EXPECT_FALSE(RenderPage("{{table:t}}\n", tables, {}, "regen").ok());
}

TEST(RenderTableTest, SourceColumnsTheSameInEveryRowGoAboveTheTable) {
  const CsvTable table{{"setting", "ours", "date", "cpu", "command"},
                       {{"fp32", "26.08", "2026-12-07", "Intel Xeon", "bazel run //x:y"},
                        {"bf16", "25.22", "2026-12-07", "Intel Xeon", "bazel run //x:y"}}};
  EXPECT_TRUE(HasSourceColumns(table));
  const absl::StatusOr<std::string> text = RenderTable(table);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text,
            "Date: 2026-12-07. CPU: Intel Xeon. Command: `bazel run //x:y`.\n\n"
            "| setting | ours |\n|---|---|\n| fp32 | 26.08 |\n| bf16 | 25.22 |\n");
}

TEST(RenderTableTest, SourceColumnsThatVaryStayColumns) {
  const CsvTable table{{"cpu", "step", "date", "command"},
                       {{"Intel Xeon", "1.24x", "2026-12-07", "bazel run //x:y"},
                        {"AMD EPYC", "1.11x", "2026-12-07", "bazel run //x:y"}}};
  const absl::StatusOr<std::string> text = RenderTable(table);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text,
            "Date: 2026-12-07. Command: `bazel run //x:y`.\n\n"
            "| cpu | step |\n|---|---|\n| Intel Xeon | 1.24x |\n| AMD EPYC | 1.11x |\n");
  EXPECT_FALSE(HasSourceColumns(CsvTable{{"run", "mAP"}, {}}));
}

TEST(TableValueTest, FindsTheCellByFirstCellAndColumnName) {
  const CsvTable table{{"figure", "value"}, {{"fused", "26.2"}, {"unfused", "20.0"}}};
  EXPECT_EQ(TableValue(table, "unfused", "value").value(), "20.0");
  EXPECT_FALSE(TableValue(table, "other", "value").ok());
  EXPECT_FALSE(TableValue(table, "fused", "other").ok());
  const CsvTable twice{{"figure", "value"}, {{"fused", "26.2"}, {"fused", "20.0"}}};
  EXPECT_FALSE(TableValue(twice, "fused", "value").ok());
}

TEST(RenderPageTest, ValuesInProseAndTablesWithTheirOwnSource) {
  const std::string page_template = "From {{value:f:fused:value}} images/s.\n\n{{table:s}}\n";
  EXPECT_EQ(TablePlaceholders(page_template), (std::vector<std::string>{"f", "s"}));
  const std::map<std::string, CsvTable> tables = {
      {"f", CsvTable{{"figure", "value"}, {{"fused", "26.2"}}}},
      {"s", CsvTable{{"setting", "date", "cpu", "command"}, {{"fp32", "2026-12-07", "not recorded", "b"}}}}};
  const absl::StatusOr<std::string> page = RenderPage(page_template, tables, {}, "regen");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->substr(page->find('\n') + 1),
            "From 26.2 images/s.\n\nDate: 2026-12-07. CPU: not recorded. Command: `b`.\n\n"
            "| setting |\n|---|\n| fp32 |\n");
  EXPECT_FALSE(RenderPage("{{value:f:fused}}\n", tables, {}, "regen").ok());
  EXPECT_FALSE(RenderPage("{{value:f:other:value}}\n", tables, {}, "regen").ok());
  EXPECT_FALSE(RenderPage("{{value:g:fused:value}}\n", tables, {}, "regen").ok());
  EXPECT_FALSE(RenderPage("{{value:f:fused:value\n", tables, {}, "regen").ok());
}

TEST(ParseTableSourcesTest, ReadsRowsAndRejectsDuplicates) {
  const CsvTable csv{{"table", "date", "date source", "cpu", "command"},
                     {{"t", "2026-11-28", "", "2-core AMD EPYC", "bazel run //x:y"}}};
  const auto sources = ParseTableSources(csv, "tables.csv");
  ASSERT_TRUE(sources.ok()) << sources.status();
  EXPECT_EQ(sources->at("t").cpu, "2-core AMD EPYC");
  CsvTable twice = csv;
  twice.rows.push_back(twice.rows[0]);
  EXPECT_FALSE(ParseTableSources(twice, "tables.csv").ok());
}

}  // namespace
}  // namespace coco
