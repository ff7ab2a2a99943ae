// Test helper: finds the emoji artwork tools/setup.sh installs (third_party/npm/emoji, git-ignored) from inside a
// Bazel test sandbox. Tests that need it derive from EmojiArtworkTest: without the artwork they fail under CI
// (CI=true, as for ../shared samples) and elsewhere skip with a notice saying how to install it.
#ifndef DATA_EMOJI_EMOJI_TEST_UTIL_H_
#define DATA_EMOJI_EMOJI_TEST_UTIL_H_

#include <optional>
#include <string>

#include "gtest/gtest.h"

namespace coco::data {

// $COCO_MULTILABEL_EMOJI_DIR (pass it with --test_env), else <workspace>/third_party/npm/emoji with the workspace
// found from the real path of `anchor_runfile`, a source file the test lists in `data`. Present only if it holds
// emoji.json.
std::optional<std::string> FindEmojiArtwork(const std::string& anchor_runfile = "data/emoji/coco_emoji.tsv");

// A copy of the artwork at `from` under the test's temporary folder (`name`), made of symbolic links, except that
// the file `drop` (relative to the artwork, e.g. "openmoji/1f415.png") is left out and the file `truncate` is a real
// copy of the first half of its bytes. Returns the copy's path.
std::string LinkedArtworkCopy(const std::string& from, const std::string& name, const std::string& drop = "",
                              const std::string& truncate = "");

class EmojiArtworkTest : public ::testing::Test {
 protected:
  void SetUp() override;
  std::string artwork_dir_;  // set when the test runs
};

}  // namespace coco::data

#endif  // DATA_EMOJI_EMOJI_TEST_UTIL_H_
