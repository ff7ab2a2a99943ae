// The OrderedDict rewrite on pickles produced by Python 3.11's pickle.dumps(..., protocol=2) (the bytes are pasted
// from the commands in the comments), checked against the rewritten programs worked out by hand.
#include "mobilenet/pickle_rewrite.h"

#include "gtest/gtest.h"

namespace mobilenet {
namespace {

std::string Bytes(const char* data, size_t size) { return std::string(data, size); }

TEST(PickleRewriteTest, OrderedDictBecomesEmptyDictFilledBySetItem) {
  // pickle.dumps(collections.OrderedDict(a=1), protocol=2)
  const char kInput[] =
      "\x80\x02"
      "ccollections\nOrderedDict\n"
      "q\x00"
      ")R"
      "q\x01"
      "X\x01\x00\x00\x00"
      "a"
      "q\x02"
      "K\x01"
      "s.";
  // The class, its memo slot, EMPTY_TUPLE and REDUCE collapse into EMPTY_DICT; SETITEM becomes MARK (before the
  // key) ... SETITEMS.
  const char kExpected[] =
      "\x80\x02"
      "}"
      "q\x01"
      "("
      "X\x01\x00\x00\x00"
      "a"
      "q\x02"
      "K\x01"
      "u.";
  const auto rewritten = RewriteOrderedDictsAsDicts(Bytes(kInput, sizeof(kInput) - 1));
  ASSERT_TRUE(rewritten.has_value());
  EXPECT_EQ(*rewritten, Bytes(kExpected, sizeof(kExpected) - 1));
}

TEST(PickleRewriteTest, MetadataAttributeIsDroppedAndMemoisedClassIsFollowed) {
  // od = collections.OrderedDict(a=1); od._metadata = collections.OrderedDict(b=2); pickle.dumps(od, protocol=2)
  const char kInput[] =
      "\x80\x02"
      "ccollections\nOrderedDict\n"
      "q\x00"
      ")R"
      "q\x01"
      "X\x01\x00\x00\x00"
      "a"
      "q\x02"
      "K\x01"
      "s"
      "}q\x03"
      "X\t\x00\x00\x00"
      "_metadata"
      "q\x04"
      "h\x00"
      ")R"
      "q\x05"
      "X\x01\x00\x00\x00"
      "b"
      "q\x06"
      "K\x02"
      "s"
      "s"
      "b.";
  // BUILD's state, {"_metadata": OrderedDict(b=2)} (the inner OrderedDict reached through BINGET of the class's
  // memo slot 0), is cut out with the BUILD, leaving {"a": 1} with its SETITEM as MARK ... SETITEMS.
  const char kExpected[] =
      "\x80\x02"
      "}"
      "q\x01"
      "("
      "X\x01\x00\x00\x00"
      "a"
      "q\x02"
      "K\x01"
      "u"
      ".";
  const auto rewritten = RewriteOrderedDictsAsDicts(Bytes(kInput, sizeof(kInput) - 1));
  ASSERT_TRUE(rewritten.has_value());
  EXPECT_EQ(*rewritten, Bytes(kExpected, sizeof(kExpected) - 1));
}

TEST(PickleRewriteTest, ProgramsWithoutOrderedDictAreUnchangedAndUnknownOpcodesRefused) {
  // pickle.dumps([1.5, b'xy', None, True], protocol=2): floats, GLOBALs of other classes, tuples, strings.
  const char kInput[] =
      "\x80\x02]q\x00(G?\xf8\x00\x00\x00\x00\x00\x00"
      "c_codecs\nencode\n"
      "q\x01"
      "X\x02\x00\x00\x00"
      "xy"
      "q\x02"
      "X\x06\x00\x00\x00"
      "latin1"
      "q\x03"
      "\x86q\x04Rq\x05N\x88"
      "e.";
  const std::string input = Bytes(kInput, sizeof(kInput) - 1);
  const auto rewritten = RewriteOrderedDictsAsDicts(input);
  ASSERT_TRUE(rewritten.has_value());
  EXPECT_EQ(*rewritten, input);
  EXPECT_FALSE(RewriteOrderedDictsAsDicts("\x95\x00\x00").has_value());         // protocol 4 FRAME: not handled
  EXPECT_FALSE(RewriteOrderedDictsAsDicts("X\xff\x00\x00\x00ab").has_value());  // string longer than the data
}

}  // namespace
}  // namespace mobilenet
