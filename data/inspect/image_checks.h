// Image checks for a dataset: which images are unreadable and which come out dark after ImageNet normalisation,
// plus small thumbnails for contact sheets.
#ifndef DATA_INSPECT_IMAGE_CHECKS_H_
#define DATA_INSPECT_IMAGE_CHECKS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/coco/coco_dataset.h"
#include "data/image/jpeg_decoder.h"

namespace coco::data {

// The mean over pixels of 0.299 zR + 0.587 zG + 0.114 zB, where zc = (pixel / 255 - mean_c) / std_c with ImageNet's
// mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225): the brightness the network sees. Pure black is -2.03,
// mid grey (128) +0.19, white +2.40; the default dark threshold -1.5 is a mean pixel value of about 0.12 (31/255).
double NormalizedLuminance(const RgbImage& image);

struct ImageBrightness {
  std::string file_name;
  double normalized_luminance = 0;
};

struct ImageCheckOptions {
  double dark_threshold = -1.5;  // images whose NormalizedLuminance is below this are dark
  int darkest = 10;              // how many of the darkest images to list
  int threads = 2;
};

struct ImageCheckResult {
  int64_t checked = 0;
  int64_t dark = 0;
  std::vector<ImageBrightness> darkest;  // darkest first
  std::vector<std::string> unreadable;   // "file: reason"
};

// Decodes every image of `dataset` under `image_dir` (at 1/8 DCT scale where large enough: brightness does not need
// full resolution).
ImageCheckResult CheckImages(const CocoDataset& dataset, const std::string& image_dir,
                             const ImageCheckOptions& options);

// A side x side thumbnail of an image file (the center square, antialiased).
absl::StatusOr<RgbImage> MakeThumbnail(const std::string& path, int side, JpegDecoder& decoder);

}  // namespace coco::data

#endif  // DATA_INSPECT_IMAGE_CHECKS_H_
