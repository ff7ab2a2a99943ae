// Softmax cross-entropy against torch.nn.functional.cross_entropy (fixture from
// testdata/make_softmax_cross_entropy_fixture.py), cases worked by hand, finite differences, extreme logits, ignored
// rows, unlabelled classes and multi-label rows.
#include "losses/softmax_cross_entropy_loss.h"

#include <torch/torch.h>

#include <cmath>
#include <string>

#include "gtest/gtest.h"
#include "losses/test_util.h"

namespace losses {
namespace {

constexpr double kFloat64Tol = 1e-10;
// fp32 on logits up to +-100 and 1000 classes: relative error of a few ulps.
constexpr double kFloat32RelTol = 1e-5;
constexpr double kFloat32AbsTol = 1e-6;
constexpr double kHandTol = 1e-7;
constexpr double kFiniteDifferenceTol = 1e-7;

constexpr char kFixturePath[] = "losses/testdata/softmax_cross_entropy_fixture.pt";
// The fixture's cases: every row counted; two ignored rows and +-100 logits; unlabelled classes in counted rows;
// 1000 classes.
constexpr const char* kCases[] = {"plain", "ignored", "partial", "wide"};

struct Smoothing {
  const char* tag;
  double value;
};
constexpr Smoothing kSmoothings[] = {{"ls0", 0.0}, {"ls0p1", 0.1}, {"ls1", 1.0}};

struct NamedReduction {
  const char* name;
  Reduction reduction;
};
constexpr NamedReduction kReductions[] = {
    {"none", Reduction::kNone}, {"mean", Reduction::kMean}, {"sum", Reduction::kSum}};

TEST(SoftmaxCrossEntropyLossTest, MatchesPyTorchForEveryCaseSmoothingAndReductionInFloat64AndFloat32) {
  const LossFixture fixture(kFixturePath);
  for (const char* name : kCases) {
    const torch::Tensor logits = fixture[std::string(name) + "_logits"];
    const torch::Tensor targets = fixture[std::string(name) + "_targets"];
    for (const Smoothing& s : kSmoothings) {
      for (const NamedReduction& r : kReductions) {
        const std::string key = std::string(name) + "_" + s.tag + "_" + r.name;
        SoftmaxCrossEntropyLoss loss(SoftmaxCrossEntropyLossOptions().label_smoothing(s.value).reduction(r.reduction));
        const torch::Tensor expected = fixture[key];
        const torch::Tensor float64 = loss(logits, targets);
        EXPECT_EQ(float64.scalar_type(), torch::kDouble);
        ASSERT_EQ(float64.sizes(), expected.sizes()) << key;
        EXPECT_TRUE(torch::allclose(float64, expected, 0, kFloat64Tol)) << key << ": " << float64 << expected;
        const torch::Tensor float32 = loss(logits.to(torch::kFloat), targets.to(torch::kFloat));
        EXPECT_EQ(float32.scalar_type(), torch::kFloat);
        EXPECT_TRUE(torch::allclose(float32.to(torch::kDouble), expected, kFloat32RelTol, kFloat32AbsTol)) << key;
      }
    }
  }
}

TEST(SoftmaxCrossEntropyLossTest, MeanGradientMatchesPyTorch) {
  const LossFixture fixture(kFixturePath);
  for (const char* name : kCases) {
    for (const Smoothing& s : kSmoothings) {
      const std::string key = std::string(name) + "_" + s.tag + "_mean_grad";
      SoftmaxCrossEntropyLoss loss(SoftmaxCrossEntropyLossOptions().label_smoothing(s.value));
      const torch::Tensor x = fixture[std::string(name) + "_logits"].clone().requires_grad_(true);
      loss(x, fixture[std::string(name) + "_targets"]).backward();
      EXPECT_TRUE(torch::allclose(x.grad(), fixture[key], 0, kFloat64Tol)) << key;
    }
  }
}

TEST(SoftmaxCrossEntropyLossTest, MatchesValuesWorkedByHand) {
  // Logits [0, ln 3], class 1: p = [1/4, 3/4], l = -ln(3/4) = 0.2876821.
  // Smoothing 0.2 over K = 2 classes: 0.8 (0.2876821) + 0.2 (ln 4 + ln(4/3)) / 2 = 0.2301457 + 0.1673977 = 0.3975433.
  const torch::Tensor logits = torch::tensor({{0.0, std::log(3.0)}}, torch::kDouble);
  const torch::Tensor targets = torch::tensor({{0.0, 1.0}}, torch::kDouble);
  EXPECT_NEAR(SoftmaxCrossEntropyLoss()(logits, targets).item<double>(), 0.2876821, kHandTol);
  EXPECT_NEAR(
      SoftmaxCrossEntropyLoss(SoftmaxCrossEntropyLossOptions().label_smoothing(0.2))(logits, targets).item<double>(),
      0.3975433, kHandTol);
}

TEST(SoftmaxCrossEntropyLossTest, IgnoredRowsAndUnlabelledClassesMatchValuesWorkedByHand) {
  // Row 0: logits [0, ln 3, 5], class 1, class 2 unlabelled: softmax over {0, 1} = [1/4, 3/4], l = 0.2876821.
  // Row 1: no positive (ignored, whatever its logits). Row 2: logits [ln 2, 0, 0], class 0, all labelled:
  // p = [2/4, 1/4, 1/4], l = ln 2 = 0.6931472. Row 3: unlabelled throughout (ignored).
  // kNone [0.2876821, 0, 0.6931472, 0]; kSum 0.9808293; kMean over the 2 counted rows 0.4904147.
  // Smoothing 0.3: row 0 0.7 (0.2876821) + 0.3 (ln 4 + ln(4/3)) / 2 = 0.2013775 + 0.2510965 = 0.4524739;
  // row 2 0.7 ln 2 + 0.3 (ln 2 + ln 4 + ln 4) / 3 = 0.4852030 + 0.3465736 = 0.8317766; mean 0.6421253.
  const torch::Tensor logits = torch::tensor(
      {{0.0, std::log(3.0), 5.0}, {1.0, -2.0, 100.0}, {std::log(2.0), 0.0, 0.0}, {3.0, 1.0, 2.0}}, torch::kDouble);
  const torch::Tensor targets =
      torch::tensor({{0.0, 1.0, -1.0}, {0.0, 0.0, 0.0}, {1.0, 0.0, 0.0}, {-1.0, -1.0, -1.0}}, torch::kDouble);
  const torch::Tensor none =
      SoftmaxCrossEntropyLoss(SoftmaxCrossEntropyLossOptions().reduction(Reduction::kNone))(logits, targets);
  ASSERT_EQ(none.sizes(), torch::IntArrayRef({4}));
  EXPECT_NEAR(none[0].item<double>(), 0.2876821, kHandTol);
  EXPECT_EQ(none[1].item<double>(), 0.0);
  EXPECT_NEAR(none[2].item<double>(), 0.6931472, kHandTol);
  EXPECT_EQ(none[3].item<double>(), 0.0);
  EXPECT_NEAR(SoftmaxCrossEntropyLoss(SoftmaxCrossEntropyLossOptions().reduction(Reduction::kSum))(logits, targets)
                  .item<double>(),
              0.9808293, kHandTol);
  EXPECT_NEAR(SoftmaxCrossEntropyLoss()(logits, targets).item<double>(), 0.4904147, kHandTol);
  EXPECT_NEAR(
      SoftmaxCrossEntropyLoss(SoftmaxCrossEntropyLossOptions().label_smoothing(0.3))(logits, targets).item<double>(),
      0.6421253, kHandTol);
}

TEST(SoftmaxCrossEntropyLossTest, PositiveIsTheRowsOnlyNonZeroTargetWhateverItsValue) {
  // A single soft positive names the class; its value is not a weight.
  torch::manual_seed(3);
  const torch::Tensor logits = torch::randn({2, 4}, torch::kDouble);
  const torch::Tensor hard = torch::tensor({{0.0, 0.0, 1.0, 0.0}, {1.0, 0.0, 0.0, 0.0}}, torch::kDouble);
  const torch::Tensor soft = torch::tensor({{0.0, 0.0, 0.3, 0.0}, {0.9, 0.0, 0.0, 0.0}}, torch::kDouble);
  SoftmaxCrossEntropyLoss loss(SoftmaxCrossEntropyLossOptions().label_smoothing(0.1));
  EXPECT_NEAR(loss(logits, soft).item<double>(), loss(logits, hard).item<double>(), kFloat64Tol);
}

TEST(SoftmaxCrossEntropyLossTest, RowWithSeveralPositivesIsAnErrorNamingIt) {
  const torch::Tensor logits = torch::zeros({3, 4});
  const torch::Tensor targets =
      torch::tensor({{1.0f, 0.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 0.0f, 0.0f}, {0.0f, 1.0f, -1.0f, 0.5f}});
  try {
    SoftmaxCrossEntropyLoss()(logits, targets);
    ADD_FAILURE() << "a row with two positives was accepted";
  } catch (const c10::Error& error) {
    const std::string message = error.what_without_backtrace();
    EXPECT_NE(message.find("row 2 has 2 positives"), std::string::npos) << message;
    EXPECT_NE(message.find("single-label"), std::string::npos) << message;
  }
}

TEST(SoftmaxCrossEntropyLossTest, IgnoredRowsAndUnlabelledClassesGetExactlyZeroGradient) {
  // Row 1 has no positive, row 3 labels nothing, row 0 leaves classes 2 and 4 unlabelled; +-100 on excluded logits
  // must leak nothing.
  torch::manual_seed(5);
  torch::Tensor logits = torch::randn({4, 5}, torch::kDouble) * 2;
  logits[0][2] = 100.0;
  logits[1][3] = -100.0;
  logits[3][0] = 100.0;
  const torch::Tensor targets = torch::tensor({{0.0, 1.0, -1.0, 0.0, -1.0},
                                               {0.0, 0.0, -1.0, 0.0, 0.0},
                                               {0.0, 0.0, 0.0, 0.0, 1.0},
                                               {-1.0, -1.0, -1.0, -1.0, -1.0}},
                                              torch::kDouble);
  torch::Tensor excluded = targets < 0;
  excluded[1].fill_(true);
  for (const double eps : {0.0, 0.25}) {
    for (const Reduction reduction : {Reduction::kNone, Reduction::kMean, Reduction::kSum}) {
      SoftmaxCrossEntropyLoss loss(SoftmaxCrossEntropyLossOptions().label_smoothing(eps).reduction(reduction));
      const torch::Tensor x = logits.clone().requires_grad_(true);
      const torch::Tensor value = loss(x, targets);
      EXPECT_TRUE(torch::isfinite(value).all().item<bool>()) << value;
      value.sum().backward();
      EXPECT_TRUE(torch::isfinite(x.grad()).all().item<bool>()) << x.grad();
      EXPECT_EQ(x.grad().masked_select(excluded).abs().max().item<double>(), 0.0) << x.grad();
      EXPECT_GT(x.grad()[0].abs().max().item<double>(), 0.0);
      EXPECT_LT(MaxFiniteDifferenceError([&](const torch::Tensor& z) { return loss(z, targets); }, logits),
                kFiniteDifferenceTol);
    }
  }
}

TEST(SoftmaxCrossEntropyLossTest, UnlabelledClassIsAsIfItsColumnWereAbsent) {
  // Row 0 leaves class 1 unlabelled: its loss is the loss of the row without that column.
  torch::manual_seed(6);
  const torch::Tensor logits = torch::randn({1, 4}, torch::kDouble) * 3;
  const torch::Tensor targets = torch::tensor({{0.0, -1.0, 1.0, 0.0}}, torch::kDouble);
  const torch::Tensor kept = torch::tensor({0, 2, 3});
  SoftmaxCrossEntropyLoss loss(SoftmaxCrossEntropyLossOptions().label_smoothing(0.4));
  EXPECT_NEAR(loss(logits, targets).item<double>(),
              loss(logits.index_select(1, kept), targets.index_select(1, kept)).item<double>(), kFloat64Tol);
}

TEST(SoftmaxCrossEntropyLossTest, BatchWithNothingCountedGivesZeroConnectedToTheLogits) {
  for (const double fill : {0.0, -1.0}) {
    const torch::Tensor x = torch::randn({3, 4}, torch::kDouble).requires_grad_(true);
    const torch::Tensor value = SoftmaxCrossEntropyLoss(SoftmaxCrossEntropyLossOptions().label_smoothing(0.1))(
        x, torch::full({3, 4}, fill, torch::kDouble));
    ASSERT_TRUE(value.requires_grad());
    EXPECT_EQ(value.item<double>(), 0.0);
    value.backward();
    EXPECT_EQ(x.grad().abs().max().item<double>(), 0.0) << x.grad();
  }
}

TEST(SoftmaxCrossEntropyLossTest, FiniteValueAndGradientAtExtremeLogitsInEveryPrecision) {
  // Positives at -100 under a +100, and at +100; +-20 around the rest.
  const torch::Tensor logits = torch::tensor(
      {{100.0, -100.0, 20.0, -20.0}, {-20.0, 20.0, 100.0, -100.0}, {100.0, 100.0, -100.0, -100.0}}, torch::kDouble);
  const torch::Tensor targets =
      torch::tensor({{0.0, 1.0, 0.0, 0.0}, {0.0, 0.0, 1.0, 0.0}, {0.0, 0.0, 0.0, 1.0}}, torch::kDouble);
  for (const double eps : {0.0, 0.1}) {
    SoftmaxCrossEntropyLoss loss(SoftmaxCrossEntropyLossOptions().label_smoothing(eps));
    for (const torch::ScalarType type : {torch::kFloat, torch::kBFloat16, torch::kHalf}) {
      const torch::Tensor x = logits.to(type).requires_grad_(true);
      const torch::Tensor value = loss(x, targets.to(type));
      EXPECT_EQ(value.scalar_type(), torch::kFloat) << type;
      EXPECT_TRUE(std::isfinite(value.item<double>())) << type << ": " << value;
      value.backward();
      EXPECT_TRUE(torch::isfinite(x.grad()).all().item<bool>()) << type << ": " << x.grad();
    }
  }
}

TEST(SoftmaxCrossEntropyLossTest, LabelSmoothingOutsideZeroToOneIsRejected) {
  EXPECT_THROW(SoftmaxCrossEntropyLoss(SoftmaxCrossEntropyLossOptions().label_smoothing(-0.1)), c10::Error);
  EXPECT_THROW(SoftmaxCrossEntropyLoss(SoftmaxCrossEntropyLossOptions().label_smoothing(1.5)), c10::Error);
  EXPECT_THROW(SoftmaxCrossEntropyLoss(SoftmaxCrossEntropyLossOptions().label_smoothing(std::nan(""))), c10::Error);
}

}  // namespace
}  // namespace losses
