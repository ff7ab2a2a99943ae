// A contact sheet: a grid of thumbnails of dataset images with their label names written under each.
#ifndef DATA_INSPECT_CONTACT_SHEET_H_
#define DATA_INSPECT_CONTACT_SHEET_H_

#include <string>
#include <vector>

#include "data/coco/coco_dataset.h"
#include "data/image/bitmap_font.h"
#include "data/image/jpeg_decoder.h"

namespace coco::data {

struct ContactSheetOptions {
  int images = 16;  // how many images (spread evenly over the dataset)
  int columns = 4;
  int thumbnail_side = 160;  // pixels
  int caption_lines = 4;     // label text lines under each thumbnail
};

// Unreadable images get a grey tile captioned "unreadable". Never fails on bad images.
RgbImage MakeContactSheet(const CocoDataset& dataset, const std::string& image_dir, const ContactSheetOptions& options);

// The layout and drawing both sheets share (this one and augmented_sheet.h's): a dark background, tiles `kSheetPadding`
// pixels apart, caption lines `kCaptionLineHeight` pixels high.
constexpr int kSheetPadding = 6;
constexpr int kCaptionLineHeight = kGlyphHeight + 3;

// A width x height sheet filled with the background colour.
RgbImage BlankSheet(int width, int height);
// Copies `tile` into `sheet` with its top-left corner at (left, top); the tile must fit.
void PasteTile(RgbImage& sheet, const RgbImage& tile, int left, int top);
// Draws `lines` one under another, the first with its top-left corner at (left, top).
void DrawCaption(RgbImage& sheet, int left, int top, const std::vector<std::string>& lines);

// `words` joined by ", ", wrapped to lines of at most `width` characters (a longer word gets a line of its own); past
// `max_lines` the last line ends in "...".
std::vector<std::string> WrapWords(const std::vector<std::string>& words, size_t width, size_t max_lines);

// The label names of `image`, comma-separated, wrapped to lines of at most `width` characters.
std::vector<std::string> WrapLabels(const CocoDataset& dataset, const Image& image, size_t width, size_t max_lines);

}  // namespace coco::data

#endif  // DATA_INSPECT_CONTACT_SHEET_H_
