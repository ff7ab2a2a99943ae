// AverageStateDicts against means worked out element by element, and its errors for mismatched inputs.
#include "trainer/state_dict_average.h"

#include <torch/torch.h>

#include <cstdlib>

#include "gtest/gtest.h"
#include "mobilenet/state_dict_io.h"

namespace trainer {
namespace {

constexpr double kTol = 1e-6;

mobilenet::StateDict Layer(float weight_offset, int64_t batches) {
  return {{"features.0.weight", torch::arange(6, torch::kFloat).reshape({2, 3}) + weight_offset},
          {"features.1.running_var", torch::full({2}, 1.0 + weight_offset, torch::kDouble)},
          {"features.1.num_batches_tracked", torch::tensor(batches, torch::kLong)}};
}

TEST(AverageStateDictsTest, FloatingTensorsAreTheMeanAndIntegersComeFromTheLastInput) {
  const absl::StatusOr<mobilenet::StateDict> average =
      AverageStateDicts({{"a.pt", Layer(0.0f, 10)}, {"b.pt", Layer(1.0f, 20)}, {"c.pt", Layer(5.0f, 30)}});
  ASSERT_TRUE(average.ok()) << average.status();
  ASSERT_EQ(average->size(), 3u);
  // Offsets 0, 1 and 5: mean offset 2. Element i of the weight: (i + i + 1 + i + 5) / 3 = i + 2.
  const torch::Tensor weight = average->at("features.0.weight");
  EXPECT_EQ(weight.scalar_type(), torch::kFloat);
  ASSERT_EQ(weight.sizes(), torch::IntArrayRef({2, 3}));
  for (int64_t i = 0; i < 6; ++i) EXPECT_NEAR(weight.flatten()[i].item<double>(), i + 2.0, kTol) << i;
  const torch::Tensor var = average->at("features.1.running_var");
  EXPECT_EQ(var.scalar_type(), torch::kDouble);
  EXPECT_NEAR(var[0].item<double>(), (1.0 + 2.0 + 6.0) / 3, kTol);
  const torch::Tensor tracked = average->at("features.1.num_batches_tracked");
  EXPECT_EQ(tracked.scalar_type(), torch::kLong);
  EXPECT_EQ(tracked.item<int64_t>(), 30);
}

// Summed in the inputs' float16, 60000 + 60000 would overflow to infinity (float16's largest value is 65504).
TEST(AverageStateDictsTest, SumsInDoublePrecision) {
  const mobilenet::StateDict a = {{"w", torch::full({1}, 60000.0, torch::kHalf)}};
  const absl::StatusOr<mobilenet::StateDict> average = AverageStateDicts({{"a", a}, {"b", a}});
  ASSERT_TRUE(average.ok()) << average.status();
  EXPECT_EQ(average->at("w").scalar_type(), torch::kHalf);
  EXPECT_EQ(average->at("w").to(torch::kFloat).item<float>(), 60000.0f);
}

TEST(AverageStateDictsTest, MismatchesAreErrorsNamingTheFileAndKey) {
  mobilenet::StateDict missing = Layer(1.0f, 1);
  missing.erase("features.1.running_var");
  absl::Status status = AverageStateDicts({{"a.pt", Layer(0.0f, 1)}, {"b.pt", missing}}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("'b.pt' has no key 'features.1.running_var'"), std::string::npos) << status;

  mobilenet::StateDict extra = Layer(1.0f, 1);
  extra["classifier.1.bias"] = torch::zeros({2});
  status = AverageStateDicts({{"a.pt", Layer(0.0f, 1)}, {"b.pt", Layer(0.0f, 1)}, {"c.pt", extra}}).status();
  EXPECT_NE(status.message().find("'c.pt' has key 'classifier.1.bias'"), std::string::npos) << status;

  mobilenet::StateDict reshaped = Layer(1.0f, 1);
  reshaped["features.0.weight"] = torch::zeros({3, 2});
  status = AverageStateDicts({{"a.pt", Layer(0.0f, 1)}, {"b.pt", reshaped}}).status();
  EXPECT_NE(status.message().find("'b.pt': key 'features.0.weight' has shape [3, 2] but [2, 3] in 'a.pt'"),
            std::string::npos)
      << status;

  mobilenet::StateDict retyped = Layer(1.0f, 1);
  retyped["features.0.weight"] = retyped["features.0.weight"].to(torch::kDouble);
  status = AverageStateDicts({{"a.pt", Layer(0.0f, 1)}, {"b.pt", retyped}}).status();
  EXPECT_NE(status.message().find("'b.pt': key 'features.0.weight' is Double but Float in 'a.pt'"), std::string::npos)
      << status;

  EXPECT_FALSE(AverageStateDicts({}).ok());
}

TEST(AverageStateDictsTest, FilesRoundTripAndAMissingFileIsNamed) {
  const std::string dir = std::getenv("TEST_TMPDIR");
  ASSERT_TRUE(mobilenet::WriteStateDict(Layer(0.0f, 3), dir + "/epoch1.pt").ok());
  ASSERT_TRUE(mobilenet::WriteStateDict(Layer(2.0f, 4), dir + "/epoch2.pt").ok());
  const absl::StatusOr<mobilenet::StateDict> average = AverageStateDictFiles({dir + "/epoch1.pt", dir + "/epoch2.pt"});
  ASSERT_TRUE(average.ok()) << average.status();
  EXPECT_TRUE(torch::allclose(average->at("features.0.weight"), torch::arange(6, torch::kFloat).reshape({2, 3}) + 1.0f,
                              kTol, kTol));
  EXPECT_EQ(average->at("features.1.num_batches_tracked").item<int64_t>(), 4);
  const absl::Status status = AverageStateDictFiles({dir + "/epoch1.pt", dir + "/nope.pt"}).status();
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("nope.pt"), std::string::npos) << status;
}

}  // namespace
}  // namespace trainer
