// The cc_proto macro's generated code compiles, links against the system libprotobuf and parses text format.
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "tools/cc/example_test.pb.h"

TEST(ProtoBuildTest, DefaultsAndTextFormatWork) {
  coco::test::Example example;
  EXPECT_FLOAT_EQ(example.alpha(), 0.25f);
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString("alpha: 0.5", &example));
  EXPECT_FLOAT_EQ(example.alpha(), 0.5f);
}
