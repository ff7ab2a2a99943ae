// Files, directories (recursive or not, hidden entries and non-image names left out), glob patterns and their
// errors, on a tree the test makes; results sorted and unique.
#include "trainer/image_inputs.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace trainer {
namespace {

namespace fs = std::filesystem;

class ImageInputsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::string(std::getenv("TEST_TMPDIR")) + "/inputs";
    fs::remove_all(root_);
    for (const char* file : {"b.jpg", "a.PNG", "notes.txt", ".hidden.jpg", "sub/c.jpeg", "sub/deeper/d.webp",
                             ".cache/e.jpg", "sub/readme.md", "other/f.gif"}) {
      fs::create_directories(fs::path(root_ + "/" + file).parent_path());
      std::ofstream(root_ + "/" + file) << "x";
    }
  }

  std::vector<std::string> Names(const std::vector<std::string>& inputs, bool recursive = true) {
    ImageInputOptions options;
    options.recursive = recursive;
    options.base_dir = root_;
    absl::StatusOr<std::vector<ImageFile>> files = CollectImageFiles(inputs, options);
    EXPECT_TRUE(files.ok()) << files.status();
    std::vector<std::string> names;
    if (!files.ok()) return names;
    for (const ImageFile& file : *files) {
      names.push_back(file.name);
      EXPECT_TRUE(fs::exists(file.path)) << file.path;
    }
    return names;
  }

  std::string root_;
};

TEST_F(ImageInputsTest, DirectoriesAreWalkedForImageNamesSorted) {
  EXPECT_EQ(Names({"."}),
            (std::vector<std::string>{"./a.PNG", "./b.jpg", "./other/f.gif", "./sub/c.jpeg", "./sub/deeper/d.webp"}));
  EXPECT_EQ(Names({"sub/"}), (std::vector<std::string>{"sub/c.jpeg", "sub/deeper/d.webp"}));
  EXPECT_EQ(Names({"."}, /*recursive=*/false), (std::vector<std::string>{"./a.PNG", "./b.jpg"}));
}

TEST_F(ImageInputsTest, NamedFilesAreTakenWhateverTheirNameAndListedOnce) {
  EXPECT_EQ(Names({"notes.txt", "b.jpg", "sub", "b.jpg", ".hidden.jpg"}),
            (std::vector<std::string>{".hidden.jpg", "b.jpg", "notes.txt", "sub/c.jpeg", "sub/deeper/d.webp"}));
  EXPECT_EQ(Names({root_ + "/b.jpg"}), (std::vector<std::string>{root_ + "/b.jpg"}));
}

TEST_F(ImageInputsTest, PatternsAreExpanded) {
  EXPECT_EQ(Names({"*.jpg", "s?b/*.jpe?"}), (std::vector<std::string>{"b.jpg", "sub/c.jpeg"}));
  EXPECT_EQ(Names({"s*"}), (std::vector<std::string>{"sub/c.jpeg", "sub/deeper/d.webp"}));  // a matched directory
}

TEST_F(ImageInputsTest, InputsThatNameNothingAreErrorsNamingThem) {
  ImageInputOptions options;
  options.base_dir = root_;
  absl::StatusOr<std::vector<ImageFile>> missing = CollectImageFiles({"b.jpg", "nope.jpg"}, options);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("'nope.jpg'"), std::string::npos);
  absl::StatusOr<std::vector<ImageFile>> no_match = CollectImageFiles({"*.tiff"}, options);
  ASSERT_FALSE(no_match.ok());
  EXPECT_NE(no_match.status().message().find("'*.tiff' matches no file"), std::string::npos);
}

}  // namespace
}  // namespace trainer
