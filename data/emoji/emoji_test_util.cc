#include "data/emoji/emoji_test_util.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include "tools/cc/shared_samples.h"

namespace coco::data {

std::optional<std::string> FindEmojiArtwork(const std::string& anchor_runfile) {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::path candidate;
  if (const char* override_dir = std::getenv("COCO_MULTILABEL_EMOJI_DIR"); override_dir && *override_dir) {
    candidate = override_dir;
  } else {
    const fs::path real = fs::canonical(anchor_runfile, error);
    if (error) return std::nullopt;
    fs::path root = real;  // strip the anchor's workspace-relative components
    const fs::path anchor(anchor_runfile);
    for (auto it = anchor.begin(); it != anchor.end(); ++it) root = root.parent_path();
    candidate = root / "third_party" / "npm" / "emoji";
  }
  if (fs::is_regular_file(candidate / "emoji.json", error)) return candidate.string();
  return std::nullopt;
}

std::string LinkedArtworkCopy(const std::string& from, const std::string& name, const std::string& drop,
                              const std::string& truncate) {
  namespace fs = std::filesystem;
  const fs::path to = fs::path(::testing::TempDir()) / name;
  fs::remove_all(to);
  fs::create_directories(to);
  const auto place = [&](const fs::path& source, const fs::path& target, const std::string& relative) {
    if (relative == drop) return;
    if (relative != truncate) {
      fs::create_symlink(source, target);
      return;
    }
    std::ifstream in(source, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(target, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  };
  for (const fs::directory_entry& top : fs::directory_iterator(from)) {
    const fs::path target = to / top.path().filename();
    if (!top.is_directory()) {
      place(top.path(), target, top.path().filename().string());
      continue;
    }
    const std::string folder = top.path().filename().string() + "/";
    if (drop.rfind(folder, 0) != 0 && truncate.rfind(folder, 0) != 0) {  // untouched: link the whole folder
      fs::create_directory_symlink(top.path(), target);
      continue;
    }
    fs::create_directories(target);
    for (const fs::directory_entry& file : fs::directory_iterator(top.path())) {
      place(file.path(), target / file.path().filename(),
            top.path().filename().string() + "/" + file.path().filename().string());
    }
  }
  return to.string();
}

void EmojiArtworkTest::SetUp() {
  const std::optional<std::string> dir = FindEmojiArtwork();
  if (dir.has_value()) {
    artwork_dir_ = *dir;
    return;
  }
  const char* override_dir = std::getenv("COCO_MULTILABEL_EMOJI_DIR");
  const std::string message =
      override_dir != nullptr && *override_dir != '\0'
          ? "no emoji.json in COCO_MULTILABEL_EMOJI_DIR=" + std::string(override_dir)
          : "the emoji artwork (third_party/npm/emoji/emoji.json) is not installed: run `bash tools/setup.sh`, or "
            "pass --test_env=COCO_MULTILABEL_EMOJI_DIR=DIR";
  if (SharedSamplesRequired()) {
    FAIL() << message << " (required under CI=true)";
  }
  std::cerr << "\n*** SKIPPED: " << message << " ***\n\n";
  GTEST_SKIP() << message;
}

}  // namespace coco::data
