#include "tools/cc/command.h"

#include "gtest/gtest.h"

namespace coco {
namespace {

TEST(RunCommandTest, ReturnsStdoutAndStderrOfASuccessfulCommand) {
  const absl::StatusOr<std::string> output = RunCommand("echo out; echo err >&2");
  ASSERT_TRUE(output.ok()) << output.status();
  EXPECT_EQ(*output, "out\nerr\n");
}

TEST(RunCommandTest, FailureNamesCommandExitStatusAndOutput) {
  const absl::StatusOr<std::string> output = RunCommand("echo broken; exit 3");
  ASSERT_FALSE(output.ok());
  const std::string message(output.status().message());
  EXPECT_NE(message.find("'echo broken; exit 3'"), std::string::npos) << message;
  EXPECT_NE(message.find("exit status 3"), std::string::npos) << message;
  EXPECT_NE(message.find("broken"), std::string::npos) << message;
}

}  // namespace
}  // namespace coco
