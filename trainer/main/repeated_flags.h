// Takes a repeatable flag's values out of argv before gflags parses it, since gflags keeps only a repeated flag's last
// value (train's --train / --val).
#ifndef TRAINER_MAIN_REPEATED_FLAGS_H_
#define TRAINER_MAIN_REPEATED_FLAGS_H_

#include <string>
#include <vector>

namespace trainer {

// Returns the value of every occurrence of the flag `name` in argv[1..argc), in order, and removes those arguments
// from argv (argc shrinks; argv[argc] stays nullptr). Spellings taken, as gflags reads them: --name=value,
// -name=value, and --name value / -name value where the next argument does not start with '-'. Anything else is left
// for gflags: a bare --name followed by a flag or at the end, anything after "--" (where gflags stops), --flagfile.
std::vector<std::string> TakeRepeatedFlag(int& argc, char** argv, const std::string& name);

}  // namespace trainer

#endif  // TRAINER_MAIN_REPEATED_FLAGS_H_
