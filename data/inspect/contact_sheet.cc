#include "data/inspect/contact_sheet.h"

#include <algorithm>

#include "data/image/bitmap_font.h"
#include "data/inspect/image_checks.h"
#include "glog/logging.h"

namespace coco::data {
namespace {

constexpr int kPadding = kSheetPadding;
constexpr int kLineHeight = kCaptionLineHeight;
constexpr std::array<uint8_t, 3> kBackground = {24, 24, 24};
constexpr std::array<uint8_t, 3> kText = {235, 235, 235};

}  // namespace

RgbImage BlankSheet(int width, int height) {
  RgbImage sheet{width, height, {}};
  sheet.pixels.resize(static_cast<size_t>(width) * height * 3);
  for (size_t p = 0; p < sheet.pixels.size(); p += 3) {
    std::copy(kBackground.begin(), kBackground.end(), &sheet.pixels[p]);
  }
  return sheet;
}

void PasteTile(RgbImage& sheet, const RgbImage& tile, int left, int top) {
  CHECK(left >= 0 && top >= 0 && left + tile.width <= sheet.width && top + tile.height <= sheet.height)
      << "tile " << tile.width << "x" << tile.height << " at (" << left << ", " << top << ") outside the "
      << sheet.width << "x" << sheet.height << " sheet";
  for (int y = 0; y < tile.height; ++y) {
    std::copy_n(&tile.pixels[static_cast<size_t>(y) * tile.width * 3], static_cast<size_t>(tile.width) * 3,
                &sheet.pixels[(static_cast<size_t>(top + y) * sheet.width + left) * 3]);
  }
}

void DrawCaption(RgbImage& sheet, int left, int top, const std::vector<std::string>& lines) {
  for (size_t line = 0; line < lines.size(); ++line) {
    DrawText(sheet, left, top + static_cast<int>(line) * kLineHeight, lines[line], kText);
  }
}

std::vector<std::string> WrapWords(const std::vector<std::string>& words, size_t width, size_t max_lines) {
  std::vector<std::string> lines;
  std::string line;
  for (size_t i = 0; i < words.size(); ++i) {
    std::string word = words[i];
    if (i + 1 < words.size()) word += ",";
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      lines.push_back(line);
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) lines.push_back(line);
  if (lines.size() > max_lines) {
    lines.resize(max_lines);
    if (!lines.empty()) lines.back() = lines.back().substr(0, width > 3 ? width - 3 : 0) + "...";
  }
  return lines;
}

std::vector<std::string> WrapLabels(const CocoDataset& dataset, const Image& image, size_t width, size_t max_lines) {
  if (image.labels.empty()) return {"(no labels)"};
  std::vector<std::string> names;
  for (int32_t label : image.labels) names.push_back(dataset.categories[static_cast<size_t>(label)].name);
  return WrapWords(names, width, max_lines);
}

RgbImage MakeContactSheet(const CocoDataset& dataset, const std::string& image_dir,
                          const ContactSheetOptions& options) {
  const int count = std::min<int>(options.images, static_cast<int>(dataset.images.size()));
  const int columns = std::max(1, std::min(options.columns, std::max(count, 1)));
  const int rows = (count + columns - 1) / columns;
  const int side = options.thumbnail_side;
  const int cell_width = side + kPadding;
  const int cell_height = side + kPadding + options.caption_lines * kLineHeight;
  RgbImage sheet = BlankSheet(columns * cell_width + kPadding, std::max(rows, 1) * cell_height + kPadding);

  JpegDecoder decoder;
  const size_t characters_per_line = static_cast<size_t>(side / kGlyphAdvance);
  for (int i = 0; i < count; ++i) {
    // Spread the picks over the whole dataset rather than taking its first images.
    const size_t index = static_cast<size_t>(i) * dataset.images.size() / static_cast<size_t>(count);
    const Image& image = dataset.images[index];
    const int left = kPadding + (i % columns) * cell_width;
    const int top = kPadding + (i / columns) * cell_height;
    auto thumbnail = MakeThumbnail(image_dir + "/" + image.file_name, side, decoder);
    std::vector<std::string> caption;
    if (thumbnail.ok()) {
      PasteTile(sheet, *thumbnail, left, top);
      caption = WrapLabels(dataset, image, characters_per_line, static_cast<size_t>(options.caption_lines));
    } else {
      RgbImage grey{side, side, std::vector<uint8_t>(static_cast<size_t>(side) * side * 3, 96)};
      PasteTile(sheet, grey, left, top);
      caption = {"unreadable"};
    }
    DrawCaption(sheet, left, top + side + 3, caption);
  }
  return sheet;
}

}  // namespace coco::data
