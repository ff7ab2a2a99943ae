// TakeRepeatedFlag on hand-written command lines: each spelling gflags accepts, zero occurrences, values with '=' and
// ':', a flag whose name starts with another's, what is left for gflags, and argv afterwards.
#include "trainer/main/repeated_flags.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainer {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// A mutable argv (nullptr-terminated, as main() gets it) over copies of `arguments`.
class CommandLine {
 public:
  explicit CommandLine(std::vector<std::string> arguments) : strings_(std::move(arguments)) {
    for (std::string& argument : strings_) pointers_.push_back(argument.data());
    pointers_.push_back(nullptr);
    argc_ = static_cast<int>(strings_.size());
  }

  std::vector<std::string> Take(const std::string& name) { return TakeRepeatedFlag(argc_, pointers_.data(), name); }

  // The arguments left in argv, after checking that argv[argc] is nullptr.
  std::vector<std::string> Rest() const {
    EXPECT_EQ(pointers_[argc_], nullptr);
    return std::vector<std::string>(pointers_.begin(), pointers_.begin() + argc_);
  }

 private:
  std::vector<std::string> strings_;
  std::vector<char*> pointers_;
  int argc_ = 0;
};

TEST(TakeRepeatedFlagTest, TakesEverySpellingInOrder) {
  CommandLine line({"train", "--train=a.json", "--config=x", "--train", "b.json", "-train=c.json", "-train", "d.json"});
  EXPECT_THAT(line.Take("train"), ElementsAre("a.json", "b.json", "c.json", "d.json"));
  EXPECT_THAT(line.Rest(), ElementsAre("train", "--config=x"));
}

TEST(TakeRepeatedFlagTest, AbsentFlagGivesNoValuesAndLeavesArgvAlone) {
  CommandLine line({"train", "--config=x", "--val=v.json", "positional"});
  EXPECT_THAT(line.Take("train"), IsEmpty());
  EXPECT_THAT(line.Rest(), ElementsAre("train", "--config=x", "--val=v.json", "positional"));
}

TEST(TakeRepeatedFlagTest, KeepsEqualsSignsAndColonsInValues) {
  CommandLine line({"train", "--train=a=b.json:/images:x", "--train", "c:d.json=e"});
  EXPECT_THAT(line.Take("train"), ElementsAre("a=b.json:/images:x", "c:d.json=e"));
  EXPECT_THAT(line.Rest(), ElementsAre("train"));
}

TEST(TakeRepeatedFlagTest, LeavesFlagsWhoseNameOnlyStartsWithTheName) {
  CommandLine line({"train", "--train_dir=d", "--train_dir", "e", "-trainx=f", "--train=a.json"});
  EXPECT_THAT(line.Take("train"), ElementsAre("a.json"));
  EXPECT_THAT(line.Rest(), ElementsAre("train", "--train_dir=d", "--train_dir", "e", "-trainx=f"));
}

TEST(TakeRepeatedFlagTest, TakesAnEmptyValue) {
  CommandLine line({"train", "--train="});
  EXPECT_THAT(line.Take("train"), ElementsAre(""));
  EXPECT_THAT(line.Rest(), ElementsAre("train"));
}

// These reach gflags, where train_main.cc reports them.
TEST(TakeRepeatedFlagTest, LeavesABareFlagFollowedByAFlagOrAtTheEnd) {
  CommandLine line({"train", "--train", "--val=v.json", "--train"});
  EXPECT_THAT(line.Take("train"), IsEmpty());
  EXPECT_THAT(line.Rest(), ElementsAre("train", "--train", "--val=v.json", "--train"));
}

TEST(TakeRepeatedFlagTest, StopsAtDoubleDashAsGflagsDoes) {
  CommandLine line({"train", "--train=a.json", "--", "--train=b.json", "--train", "c.json"});
  EXPECT_THAT(line.Take("train"), ElementsAre("a.json"));
  EXPECT_THAT(line.Rest(), ElementsAre("train", "--", "--train=b.json", "--train", "c.json"));
}

TEST(TakeRepeatedFlagTest, TwoFlagsTakenOneAfterTheOther) {
  CommandLine line({"train", "--train=a.json", "--val", "v.json", "--train", "b.json", "--val=w.json", "--resume"});
  EXPECT_THAT(line.Take("train"), ElementsAre("a.json", "b.json"));
  EXPECT_THAT(line.Take("val"), ElementsAre("v.json", "w.json"));
  EXPECT_THAT(line.Rest(), ElementsAre("train", "--resume"));
}

}  // namespace
}  // namespace trainer
