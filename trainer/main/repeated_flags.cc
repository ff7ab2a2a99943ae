#include "trainer/main/repeated_flags.h"

#include <string_view>

namespace trainer {
namespace {

// What follows the one or two dashes gflags accepts before a flag ("name=value" or "name"); empty for a non-flag.
std::string_view FlagPart(std::string_view argument) {
  if (argument.substr(0, 2) == "--") return argument.substr(2);
  if (argument.substr(0, 1) == "-") return argument.substr(1);
  return {};
}

}  // namespace

std::vector<std::string> TakeRepeatedFlag(int& argc, char** argv, const std::string& name) {
  std::vector<std::string> values;
  if (argc < 1) return values;
  int kept = 1;  // argv[0], the program, stays
  int i = 1;
  for (; i < argc; ++i) {
    const std::string_view argument = argv[i];
    if (argument == "--") break;  // gflags stops here; the rest is not flags
    const std::string_view flag = FlagPart(argument);
    if (flag.size() > name.size() && flag.substr(0, name.size()) == name && flag[name.size()] == '=') {
      values.emplace_back(flag.substr(name.size() + 1));
    } else if (flag == name && i + 1 < argc && argv[i + 1][0] != '-') {
      values.emplace_back(argv[++i]);
    } else {
      argv[kept++] = argv[i];
    }
  }
  for (; i < argc; ++i) argv[kept++] = argv[i];
  argc = kept;
  argv[argc] = nullptr;
  return values;
}

}  // namespace trainer
