#include "data/inspect/contact_sheet.h"

#include <algorithm>

#include "data/image/bitmap_font.h"
#include "data/inspect/image_checks.h"

namespace coco::data {
namespace {

constexpr int kPadding = 6;
constexpr int kLineHeight = kGlyphHeight + 3;
constexpr std::array<uint8_t, 3> kBackground = {24, 24, 24};
constexpr std::array<uint8_t, 3> kText = {235, 235, 235};

void Paste(RgbImage& sheet, const RgbImage& tile, int left, int top) {
  for (int y = 0; y < tile.height; ++y) {
    std::copy_n(&tile.pixels[static_cast<size_t>(y) * tile.width * 3], static_cast<size_t>(tile.width) * 3,
                &sheet.pixels[(static_cast<size_t>(top + y) * sheet.width + left) * 3]);
  }
}

}  // namespace

std::vector<std::string> WrapLabels(const CocoDataset& dataset, const Image& image, size_t width, size_t max_lines) {
  std::vector<std::string> lines;
  if (image.labels.empty()) return {"(no labels)"};
  std::string line;
  for (size_t i = 0; i < image.labels.size(); ++i) {
    std::string word = dataset.categories[static_cast<size_t>(image.labels[i])].name;
    if (i + 1 < image.labels.size()) word += ",";
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      lines.push_back(line);
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) lines.push_back(line);
  if (lines.size() > max_lines) {
    lines.resize(max_lines);
    lines.back() = lines.back().substr(0, width > 3 ? width - 3 : 0) + "...";
  }
  return lines;
}

RgbImage MakeContactSheet(const CocoDataset& dataset, const std::string& image_dir,
                          const ContactSheetOptions& options) {
  const int count = std::min<int>(options.images, static_cast<int>(dataset.images.size()));
  const int columns = std::max(1, std::min(options.columns, std::max(count, 1)));
  const int rows = (count + columns - 1) / columns;
  const int side = options.thumbnail_side;
  const int cell_width = side + kPadding;
  const int cell_height = side + kPadding + options.caption_lines * kLineHeight;
  RgbImage sheet{columns * cell_width + kPadding, std::max(rows, 1) * cell_height + kPadding, {}};
  sheet.pixels.resize(static_cast<size_t>(sheet.width) * sheet.height * 3);
  for (size_t p = 0; p < sheet.pixels.size(); p += 3) std::copy(kBackground.begin(), kBackground.end(), &sheet.pixels[p]);

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
      Paste(sheet, *thumbnail, left, top);
      caption = WrapLabels(dataset, image, characters_per_line, static_cast<size_t>(options.caption_lines));
    } else {
      RgbImage grey{side, side, std::vector<uint8_t>(static_cast<size_t>(side) * side * 3, 96)};
      Paste(sheet, grey, left, top);
      caption = {"unreadable"};
    }
    for (size_t line = 0; line < caption.size(); ++line) {
      DrawText(sheet, left, top + side + 3 + static_cast<int>(line) * kLineHeight, caption[line], kText);
    }
  }
  return sheet;
}

}  // namespace coco::data
