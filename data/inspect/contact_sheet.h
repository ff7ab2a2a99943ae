// A contact sheet: a grid of thumbnails of dataset images with their label names written under each.
#ifndef DATA_INSPECT_CONTACT_SHEET_H_
#define DATA_INSPECT_CONTACT_SHEET_H_

#include <string>

#include "data/coco/coco_dataset.h"
#include "data/image/jpeg_decoder.h"

namespace coco::data {

struct ContactSheetOptions {
  int images = 16;           // how many images (spread evenly over the dataset)
  int columns = 4;
  int thumbnail_side = 160;  // pixels
  int caption_lines = 4;     // label text lines under each thumbnail
};

// Unreadable images get a grey tile captioned "unreadable". Never fails on bad images.
RgbImage MakeContactSheet(const CocoDataset& dataset, const std::string& image_dir,
                          const ContactSheetOptions& options);

// The label names of `image`, comma-separated, wrapped to lines of at most `width` characters.
std::vector<std::string> WrapLabels(const CocoDataset& dataset, const Image& image, size_t width, size_t max_lines);

}  // namespace coco::data

#endif  // DATA_INSPECT_CONTACT_SHEET_H_
