// Fuzz target: the class-list file (label_space { list_file }) and the label space built from it, plus alias
// entries ("old=new", one per line) as a config would give them.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "data/coco/label_space.h"
#include "tools/fuzz/input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coco::data;
  const std::string path = coco::fuzz::WriteInputFile(data, size, ".txt");
  absl::StatusOr<std::vector<std::string>> names = ReadClassList(path);
  if (names.ok()) {
    absl::StatusOr<LabelSpace> space = LabelSpace::Create(*names);
    if (space.ok()) space->IndexOf("person");
  }
  std::vector<std::string> entries;
  std::istringstream lines(std::string(reinterpret_cast<const char*>(data), size));
  for (std::string line; std::getline(lines, line);) entries.push_back(line);
  absl::StatusOr<std::map<std::string, std::string>> aliases = ParseAliases(true, entries, "fuzz aliases");
  if (aliases.ok() && names.ok()) AliasNames(*names, *aliases);
  return 0;
}
