#include "trainer/distributed/environment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace trainer::distributed {
namespace {

using ::testing::HasSubstr;

// What torchrun sets for the second of two processes on one machine.
DistributedVariables TorchrunSecondOfTwo() {
  DistributedVariables variables;
  variables.rank = "1";
  variables.world_size = "2";
  variables.local_rank = "1";
  variables.local_world_size = "2";
  variables.master_addr = "127.0.0.1";
  variables.master_port = "29500";
  variables.restart_count = "3";
  variables.use_agent_store = "True";
  return variables;
}

std::string ErrorOf(const DistributedVariables& variables) {
  return std::string(ParseDistributedEnvironment(variables).status().message());
}

TEST(DistributedEnvironmentTest, NothingSetIsOneProcess) {
  const absl::StatusOr<DistributedEnvironment> environment = ParseDistributedEnvironment({});
  ASSERT_TRUE(environment.ok()) << environment.status();
  EXPECT_EQ(environment->world_size, 1);
  EXPECT_EQ(environment->rank, 0);
  EXPECT_EQ(environment->local_world_size, 1);
  EXPECT_FALSE(environment->is_distributed());
  EXPECT_FALSE(environment->use_agent_store);
}

TEST(DistributedEnvironmentTest, ReadsEveryTorchrunVariable) {
  const absl::StatusOr<DistributedEnvironment> environment = ParseDistributedEnvironment(TorchrunSecondOfTwo());
  ASSERT_TRUE(environment.ok()) << environment.status();
  EXPECT_EQ(environment->rank, 1);
  EXPECT_EQ(environment->world_size, 2);
  EXPECT_EQ(environment->local_rank, 1);
  EXPECT_EQ(environment->local_world_size, 2);
  EXPECT_EQ(environment->master_addr, "127.0.0.1");
  EXPECT_EQ(environment->master_port, 29500);
  EXPECT_EQ(environment->restart_count, 3);
  EXPECT_TRUE(environment->use_agent_store);
  EXPECT_TRUE(environment->is_distributed());
}

TEST(DistributedEnvironmentTest, ReadsTheProcessEnvironment) {
  setenv("RANK", "0", 1);
  setenv("WORLD_SIZE", "4", 1);
  setenv("MASTER_ADDR", "node0", 1);
  setenv("MASTER_PORT", "1234", 1);
  const absl::StatusOr<DistributedEnvironment> environment = DistributedEnvironmentFromProcess();
  for (const char* name : {"RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"}) unsetenv(name);
  ASSERT_TRUE(environment.ok()) << environment.status();
  EXPECT_EQ(environment->world_size, 4);
  EXPECT_EQ(environment->master_addr, "node0");
  // Local values unset: every process on this machine.
  EXPECT_EQ(environment->local_rank, 0);
  EXPECT_EQ(environment->local_world_size, 4);
}

TEST(DistributedEnvironmentTest, AnOverriddenFieldReplacesTheEnvironmentValue) {
  DistributedVariables variables = TorchrunSecondOfTwo();
  variables.master_port = "40000";  // e.g. from a --master_port flag
  const absl::StatusOr<DistributedEnvironment> environment = ParseDistributedEnvironment(variables);
  ASSERT_TRUE(environment.ok()) << environment.status();
  EXPECT_EQ(environment->master_port, 40000);
}

TEST(DistributedEnvironmentTest, RankOutsideWorldSizeNamesTheRange) {
  DistributedVariables variables = TorchrunSecondOfTwo();
  variables.rank = "3";
  EXPECT_THAT(ErrorOf(variables), HasSubstr("RANK=3 is out of range; expected 0 <= RANK < WORLD_SIZE=2"));
}

TEST(DistributedEnvironmentTest, NonNumericValueNamesTheVariable) {
  DistributedVariables variables = TorchrunSecondOfTwo();
  variables.world_size = "two";
  EXPECT_THAT(ErrorOf(variables), HasSubstr("WORLD_SIZE='two' is not an integer; expected WORLD_SIZE >= 1"));
  variables = TorchrunSecondOfTwo();
  variables.master_port = "29500x";
  EXPECT_THAT(ErrorOf(variables), HasSubstr("MASTER_PORT='29500x' is not an integer"));
}

TEST(DistributedEnvironmentTest, SeveralProcessesNeedTheRendezvousAddress) {
  DistributedVariables variables = TorchrunSecondOfTwo();
  variables.master_addr.reset();
  EXPECT_THAT(ErrorOf(variables), HasSubstr("WORLD_SIZE=2 needs MASTER_ADDR"));
  variables = TorchrunSecondOfTwo();
  variables.master_port.reset();
  EXPECT_THAT(ErrorOf(variables), HasSubstr("WORLD_SIZE=2 needs MASTER_PORT"));
  variables = TorchrunSecondOfTwo();
  variables.master_port = "70000";
  EXPECT_THAT(ErrorOf(variables), HasSubstr("MASTER_PORT=70000 is out of range; expected 1 <= MASTER_PORT <= 65535"));
}

TEST(DistributedEnvironmentTest, OneProcessNeedsNoRendezvousAddress) {
  DistributedVariables variables;
  variables.rank = "0";
  variables.world_size = "1";
  EXPECT_TRUE(ParseDistributedEnvironment(variables).ok());
}

TEST(DistributedEnvironmentTest, RankAndWorldSizeComeTogether) {
  DistributedVariables variables = TorchrunSecondOfTwo();
  variables.world_size.reset();
  EXPECT_THAT(ErrorOf(variables), HasSubstr("RANK=1 is set but WORLD_SIZE is not"));
  variables = TorchrunSecondOfTwo();
  variables.rank.reset();
  EXPECT_THAT(ErrorOf(variables), HasSubstr("WORLD_SIZE=2 but RANK is not set"));
}

TEST(DistributedEnvironmentTest, LocalValuesAreChecked) {
  DistributedVariables variables = TorchrunSecondOfTwo();
  variables.local_rank = "2";
  EXPECT_THAT(ErrorOf(variables),
              HasSubstr("LOCAL_RANK=2 is out of range; expected 0 <= LOCAL_RANK < LOCAL_WORLD_SIZE=2"));
  variables = TorchrunSecondOfTwo();
  variables.local_world_size = "3";
  EXPECT_THAT(ErrorOf(variables), HasSubstr("LOCAL_WORLD_SIZE=3 is out of range"));
}

TEST(DistributedEnvironmentTest, AgentStoreFlagMustBeABoolean) {
  DistributedVariables variables = TorchrunSecondOfTwo();
  variables.use_agent_store = "yes";
  EXPECT_THAT(ErrorOf(variables), HasSubstr("TORCHELASTIC_USE_AGENT_STORE='yes' is not a boolean"));
  variables.use_agent_store = "False";
  ASSERT_TRUE(ParseDistributedEnvironment(variables).ok());
  EXPECT_FALSE(ParseDistributedEnvironment(variables)->use_agent_store);
}

TEST(DistributedEnvironmentTest, ExplicitValuesAreValidatedAlike) {
  DistributedEnvironment environment;
  environment.world_size = 2;
  environment.rank = 1;
  environment.local_world_size = 2;
  environment.local_rank = 1;
  environment.master_addr = "localhost";
  environment.master_port = 29500;
  EXPECT_TRUE(ValidateDistributedEnvironment(environment).ok());
  environment.rank = -1;
  EXPECT_THAT(std::string(ValidateDistributedEnvironment(environment).message()),
              HasSubstr("RANK=-1 is out of range; expected 0 <= RANK < WORLD_SIZE=2"));
}

}  // namespace
}  // namespace trainer::distributed
