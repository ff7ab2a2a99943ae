#include "data/emoji/emoji_contact_sheet.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <iterator>
#include <set>

#include "data/image/bitmap_font.h"
#include "data/image/jpeg_decoder.h"
#include "data/image/png_writer.h"
#include "tools/cc/status_macros.h"

namespace coco::data {
namespace {

constexpr int kPadding = 4;
constexpr int kCaptionLines = 3;
constexpr int kLineHeight = kGlyphHeight + 2;
constexpr std::array<uint8_t, 3> kBackground = {24, 24, 24};
constexpr std::array<uint8_t, 3> kText = {235, 235, 235};

absl::StatusOr<RgbImage> ReadJpeg(const std::string& path, JpegDecoder& decoder) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError("cannot open '" + path + "'");
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  return decoder.Decode(bytes, path);
}

// "person, dog" wrapped into at most kCaptionLines - 1 lines of `width` characters (underscores as spaces).
std::vector<std::string> LabelLines(const EmojiCocoResult& result, const ImageRecord& image, size_t width) {
  std::set<int> classes;
  for (const PasteRecord& paste : image.pastes) {
    if (paste.class_index >= 0) classes.insert(paste.class_index);
  }
  std::vector<std::string> lines(1);
  for (int c : classes) {
    std::string word = result.categories[static_cast<size_t>(c)].name;
    std::replace(word.begin(), word.end(), '_', ' ');
    if (!lines.back().empty() && lines.back().size() + 2 + word.size() > width) lines.emplace_back();
    lines.back() += (lines.back().empty() ? "" : ", ") + word;
  }
  if (classes.empty()) lines.back() = "(no labels)";
  if (lines.size() > kCaptionLines - 1) lines.resize(kCaptionLines - 1);
  for (std::string& line : lines) line = line.substr(0, width);
  return lines;
}

}  // namespace

absl::Status WriteEmojiContactSheet(const EmojiCocoResult& result, const std::string& path, int per_split,
                                    int columns) {
  if (per_split < 1 || columns < 1) return absl::InvalidArgumentError("per_split and columns must be positive");
  std::vector<std::pair<const SplitRecord*, const ImageRecord*>> picks;
  int rows = 0;
  for (const SplitRecord& split : result.splits) {
    const int count = std::min<int>(per_split, static_cast<int>(split.images.size()));
    // Spread over the split; the "+ i" steps off the period of the pretraining set's classes (image k is class k mod
    // N).
    const size_t size = split.images.size();
    for (int i = 0; i < count; ++i) {
      picks.emplace_back(&split, &split.images[(static_cast<size_t>(i) * size / count + i) % size]);
    }
    // Each split starts a new row; pad the last row of this split.
    while (picks.size() % static_cast<size_t>(columns) != 0) picks.emplace_back(nullptr, nullptr);
    rows = static_cast<int>(picks.size()) / columns;
  }
  if (picks.empty()) return absl::InvalidArgumentError("no images to put on a contact sheet");
  JpegDecoder decoder;
  int side = 0;
  for (const auto& [split, image] : picks) {
    if (image == nullptr) continue;
    ASSIGN_OR_RETURN(const RgbImage first,
                     ReadJpeg(result.out_dir + "/" + split->name + "/" + image->file_name, decoder));
    side = first.width;
    break;
  }
  const int cell_width = side + kPadding, cell_height = side + kPadding + kCaptionLines * kLineHeight;
  RgbImage sheet{columns * cell_width + kPadding, rows * cell_height + kPadding, {}};
  sheet.pixels.resize(static_cast<size_t>(sheet.width) * sheet.height * 3);
  for (size_t p = 0; p < sheet.pixels.size(); p += 3)
    std::copy(kBackground.begin(), kBackground.end(), &sheet.pixels[p]);
  const size_t characters = static_cast<size_t>(side / kGlyphAdvance);
  for (size_t i = 0; i < picks.size(); ++i) {
    const auto [split, image] = picks[i];
    if (image == nullptr) continue;
    ASSIGN_OR_RETURN(const RgbImage tile,
                     ReadJpeg(result.out_dir + "/" + split->name + "/" + image->file_name, decoder));
    const int left = kPadding + static_cast<int>(i % static_cast<size_t>(columns)) * cell_width;
    const int top = kPadding + static_cast<int>(i / static_cast<size_t>(columns)) * cell_height;
    for (int y = 0; y < std::min(tile.height, side); ++y) {
      std::copy_n(&tile.pixels[static_cast<size_t>(y) * tile.width * 3],
                  static_cast<size_t>(std::min(tile.width, side)) * 3,
                  &sheet.pixels[(static_cast<size_t>(top + y) * sheet.width + left) * 3]);
    }
    std::vector<std::string> caption = {split->name.substr(0, split->name.find('2')) + " " + std::to_string(image->id) +
                                        (image->dark ? " dark" : "")};
    for (std::string& line : LabelLines(result, *image, characters)) caption.push_back(std::move(line));
    for (size_t line = 0; line < caption.size(); ++line) {
      DrawText(sheet, left, top + side + 2 + static_cast<int>(line) * kLineHeight, caption[line], kText);
    }
  }
  return WritePng(sheet, path);
}

}  // namespace coco::data
