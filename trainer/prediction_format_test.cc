// Prediction lines for hand-picked probabilities: labels are exactly the classes at or over their own threshold,
// top holds top_k classes most probable first, and names with quotes or control characters stay valid JSON.
#include "trainer/prediction_format.h"

#include "gtest/gtest.h"
#include "tools/cc/json_string.h"

namespace trainer {
namespace {

PredictionFormat ThreeClasses(int top_k) { return PredictionFormat{{"person", "dog", "car"}, {0.5, 0.25, 0.9}, top_k}; }

TEST(PredictionFormatTest, LabelsAreTheClassesAtOrOverTheirThreshold) {
  const float probabilities[] = {0.5f, 0.75f, 0.875f};  // person at its threshold, dog over, car under
  EXPECT_EQ(JsonPredictionLine("a.jpg", probabilities, ThreeClasses(2)),
            "{\"file\": \"a.jpg\", \"labels\": [{\"name\": \"dog\", \"score\": 0.75}, {\"name\": \"person\", "
            "\"score\": 0.5}], \"top\": [{\"name\": \"car\", \"score\": 0.875}, {\"name\": \"dog\", \"score\": "
            "0.75}]}\n");
}

TEST(PredictionFormatTest, TopKIsClampedAndZeroGivesAnEmptyList) {
  const float probabilities[] = {0.125f, 0.0625f, 0.25f};
  EXPECT_EQ(JsonPredictionLine("b.png", probabilities, ThreeClasses(0)),
            "{\"file\": \"b.png\", \"labels\": [], \"top\": []}\n");
  const std::string all = JsonPredictionLine("b.png", probabilities, ThreeClasses(10));
  EXPECT_NE(all.find("\"top\": [{\"name\": \"car\", \"score\": 0.25}, {\"name\": \"person\", \"score\": 0.125}, "
                     "{\"name\": \"dog\", \"score\": 0.0625}]"),
            std::string::npos)
      << all;
}

TEST(PredictionFormatTest, ScoresHaveSixSignificantDigits) {
  const float probabilities[] = {0.123456789f, 1.5e-7f, 1.0f};
  const std::string line = JsonPredictionLine("c.jpg", probabilities, ThreeClasses(3));
  EXPECT_NE(line.find("\"score\": 0.123457}"), std::string::npos) << line;
  EXPECT_NE(line.find("\"score\": 1.5e-07}"), std::string::npos) << line;
  EXPECT_NE(line.find("{\"name\": \"car\", \"score\": 1}"), std::string::npos) << line;
}

TEST(PredictionFormatTest, NamesAndErrorsAreEscaped) {
  EXPECT_EQ(coco::JsonString("a\"b\\c\nd\te\x01"), "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
  EXPECT_EQ(coco::JsonString("caf\xC3\xA9.jpg"), "\"caf\xC3\xA9.jpg\"");  // UTF-8 passes through
  EXPECT_EQ(JsonErrorLine("x \"1\".jpg", "cannot read 'x'"),
            "{\"file\": \"x \\\"1\\\".jpg\", \"error\": \"cannot read 'x'\"}\n");
}

TEST(PredictionFormatTest, TextLinesKeepTheOldHumanReadableForm) {
  const float labelled[] = {0.912f, 0.604f, 0.1f};
  EXPECT_EQ(TextPredictionLine("p.jpg", labelled, ThreeClasses(5)), "p.jpg: person 0.912, dog 0.604\n");
  const float none[] = {0.311f, 0.12f, 0.5f};
  EXPECT_EQ(TextPredictionLine("q.jpg", none, ThreeClasses(2)),
            "q.jpg: (none over threshold; top: car 0.500 person 0.311)\n");
  EXPECT_EQ(TextErrorLine("r.jpg", "truncated"), "r.jpg: error: truncated\n");
}

}  // namespace
}  // namespace trainer
