// Fuzz target: the class-list file (label_space { list_file }) and the label space built from it, plus alias
// entries ("old=new", one per line) as a config would give them. Invariants (label_space.h): an error names the file;
// a list that reads is non-empty, its names unique, non-empty, without a line break, surrounding whitespace or a
// leading '#'; LabelSpace::Create refuses it exactly when a name holds a tab or a carriage return (the only thing
// the reader lets through that a label space refuses), and otherwise indexes every name at its position; a label
// space's names written one per line (as classes.txt is) read back as the same list; parsed aliases hold the VOC
// table overridden by every entry (the last of a name wins), and AliasNames renames by them name for name.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "data/coco/label_space.h"
#include "tools/fuzz/fuzz_check.h"
#include "tools/fuzz/input_file.h"

namespace {

using coco::data::LabelSpace;

void CheckClassList(const std::vector<std::string>& names) {
  FUZZ_CHECK(!names.empty(), "a class list that reads has at least one name");
  std::set<std::string> seen;
  bool has_tab_or_cr = false;
  for (const std::string& name : names) {
    FUZZ_CHECK(!name.empty(), "empty class name");
    FUZZ_CHECK(name.find('\n') == std::string::npos, "class name with a line break: '" + name + "'");
    FUZZ_CHECK(name.front() != '#', "class name read from a comment line: '" + name + "'");
    FUZZ_CHECK(std::string(" \t\r").find(name.front()) == std::string::npos &&
                   std::string(" \t\r").find(name.back()) == std::string::npos,
               "class name with surrounding whitespace: '" + name + "'");
    FUZZ_CHECK(seen.insert(name).second, "duplicate class name accepted: '" + name + "'");
    has_tab_or_cr = has_tab_or_cr || name.find_first_of("\t\r") != std::string::npos;
  }

  absl::StatusOr<LabelSpace> space = LabelSpace::Create(names);
  FUZZ_CHECK(space.ok() == !has_tab_or_cr,
             "LabelSpace::Create and ReadClassList disagree: " + (space.ok() ? "OK" : space.status().ToString()));
  if (!space.ok()) {
    FUZZ_CHECK(!space.status().message().empty(), "an error without a message");
    return;
  }
  FUZZ_CHECK(space->names() == names && space->size() == static_cast<int64_t>(names.size()),
             "the label space does not hold the list as read");
  for (size_t i = 0; i < names.size(); ++i) {
    FUZZ_CHECK(space->IndexOf(names[i]) == static_cast<int32_t>(i), "IndexOf('" + names[i] + "') is not its position");
  }
  const int32_t person = space->IndexOf("person");
  FUZZ_CHECK(person == -1 || names[static_cast<size_t>(person)] == "person", "IndexOf of an absent name");

  // classes.txt is written one name per line (trainer.cc); it must read back exactly.
  std::string classes_txt;
  for (const std::string& name : space->names()) classes_txt += name + "\n";
  const std::string written = coco::fuzz::WriteInputFile(reinterpret_cast<const uint8_t*>(classes_txt.data()),
                                                         classes_txt.size(), ".classes.txt");
  const absl::StatusOr<std::vector<std::string>> reread = coco::data::ReadClassList(written);
  FUZZ_CHECK(reread.ok(), "a label space's classes.txt does not read back: " + reread.status().ToString());
  FUZZ_CHECK(*reread == names, "a label space's classes.txt reads back as another list");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coco::data;
  const std::string path = coco::fuzz::WriteInputFile(data, size, ".txt");
  const absl::StatusOr<std::vector<std::string>> names = ReadClassList(path);
  if (names.ok()) {
    CheckClassList(*names);
  } else {
    FUZZ_CHECK(std::string(names.status().message()).find(path) != std::string::npos,
               "an error must name the file: " + names.status().ToString());
  }

  std::vector<std::string> entries;
  std::istringstream lines(std::string(reinterpret_cast<const char*>(data), size));
  for (std::string line; std::getline(lines, line);) entries.push_back(line);
  const absl::StatusOr<std::map<std::string, std::string>> aliases = ParseAliases(true, entries, "fuzz aliases");
  if (!aliases.ok()) {
    bool malformed = false;
    for (const std::string& entry : entries) {
      const size_t equals = entry.find('=');
      malformed = malformed || equals == std::string::npos || equals == 0 || equals + 1 == entry.size();
    }
    FUZZ_CHECK(malformed, "aliases refused without a malformed entry: " + aliases.status().ToString());
    FUZZ_CHECK(std::string(aliases.status().message()).find("fuzz aliases") != std::string::npos,
               "an alias error must name the setting: " + aliases.status().ToString());
    return 0;
  }
  // The VOC table, then each entry "old=new" (split at the first '='), later ones winning.
  std::map<std::string, std::string> expected = VocToCocoAliases();
  for (const std::string& entry : entries) {
    const size_t equals = entry.find('=');
    FUZZ_CHECK(equals != std::string::npos && equals > 0 && equals + 1 < entry.size(),
               "malformed alias entry accepted: '" + entry + "'");
    expected[entry.substr(0, equals)] = entry.substr(equals + 1);
  }
  FUZZ_CHECK(*aliases == expected, "the aliases parsed are not the VOC table plus the entries");
  if (names.ok()) {
    const std::vector<std::string> renamed = AliasNames(*names, *aliases);
    FUZZ_CHECK(renamed.size() == names->size(), "AliasNames changed the number of names");
    for (size_t i = 0; i < renamed.size(); ++i) {
      const auto alias = aliases->find((*names)[i]);
      FUZZ_CHECK(renamed[i] == (alias == aliases->end() ? (*names)[i] : alias->second),
                 "AliasNames renamed '" + (*names)[i] + "' to '" + renamed[i] + "'");
    }
  }
  return 0;
}
