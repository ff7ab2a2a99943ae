// Fuzz target: a JPEG through every way the loader reads one - header, full decode, DCT-scaled decode, the windowed
// region decoder, and the train/eval transforms over what was decoded.
//
// Invariants (jpeg_decoder.h, jpeg_region_decoder.h, image_transforms.h): an error names the file; a header that
// reads declares a positive size within MaxImagePixels(); a decode is that size reduced by one of the DCT factors
// 1, 1/2, 1/4, 1/8 (the smallest that keeps the requested size, when the file has it), with width x height x 3 bytes
// of pixels; a decoded window has such a factor, lies inside the scaled image and covers the crop; the crop lies
// inside the image; every output of the transform is finite and within the normalised range of [0, 255].
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "data/image/image_transforms.h"
#include "data/image/jpeg_decoder.h"
#include "data/image/jpeg_region_decoder.h"
#include "data/image/jpeg_test_util.h"
#include "tools/fuzz/fuzz_check.h"

namespace {

using namespace coco::data;

std::string Size(int64_t width, int64_t height) { return std::to_string(width) + " x " + std::to_string(height); }

int64_t ScaledUp(int64_t size, int denominator) { return (size + denominator - 1) / denominator; }

void CheckError(const absl::Status& status) {
  FUZZ_CHECK(std::string(status.message()).find("'fuzz.jpg'") != std::string::npos,
             "an error must name the file: " + status.ToString());
}

void CheckPixels(const RgbImage& image) {
  FUZZ_CHECK(image.width > 0 && image.height > 0, "decoded size " + Size(image.width, image.height));
  FUZZ_CHECK(image.pixels.size() == static_cast<size_t>(image.width) * image.height * 3,
             std::to_string(image.pixels.size()) + " bytes for " + Size(image.width, image.height) + " RGB pixels");
}

// The box lies inside the image and is not empty; an eval box is never mirrored.
void CheckCrop(const CropBox& box, int width, int height, bool train) {
  const std::string what = "crop [" + std::to_string(box.x0) + ", " + std::to_string(box.x1) + ") x [" +
                           std::to_string(box.y0) + ", " + std::to_string(box.y1) + ") of " + Size(width, height);
  const double slack = 1e-9 * (1 + std::max(width, height));  // the box's arithmetic rounds
  FUZZ_CHECK(box.x0 >= -slack && box.x0 < box.x1 && box.x1 <= width + slack, what);
  FUZZ_CHECK(box.y0 >= -slack && box.y0 < box.y1 && box.y1 <= height + slack, what);
  if (!train) FUZZ_CHECK(!box.flip, "an eval crop is mirrored");
}

// Bytes 0..255 normalised per channel: (v / 255 - mean) / std, and a convex resampling filter stays within that range.
void CheckTransformed(const std::vector<float>& out, const TransformOptions& options, bool channels_last) {
  const size_t plane = static_cast<size_t>(options.output_size) * options.output_size;
  FUZZ_CHECK(out.size() == 3 * plane, "output size");
  for (size_t i = 0; i < out.size(); ++i) {
    const size_t c = channels_last ? i % 3 : i / plane;
    const double low = -options.mean[c] / options.std[c], high = (1.0 - options.mean[c]) / options.std[c];
    FUZZ_CHECK(std::isfinite(out[i]) && out[i] >= low - 1e-3 && out[i] <= high + 1e-3,
               "output " + std::to_string(i) + " = " + std::to_string(out[i]) + " outside [" + std::to_string(low) +
                   ", " + std::to_string(high) + "]");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t choice = data[0];  // the first byte picks sizes and the crop; the rest is the file
  const std::vector<uint8_t> jpeg(data + 1, data + size);
  static JpegDecoder decoder;
  // The decoder is reused, as a loader thread reuses its own: whatever this input did, a valid file must still decode
  // afterwards (a corrupt header once left libjpeg-turbo's handle unable to read the next file).
  struct CheckStillDecodes {
    ~CheckStillDecodes() {
      static const std::vector<uint8_t> valid = EncodeTestJpeg(GradientRgb(8, 8), 8, 8, TestJpegKind::kRgb);
      const absl::StatusOr<RgbImage> image = decoder.Decode(valid, "valid.jpg");
      FUZZ_CHECK(image.ok(), "a valid JPEG no longer decodes: " + image.status().ToString());
      FUZZ_CHECK(image->width == 8 && image->height == 8 && image->pixels.size() == 8 * 8 * 3, "valid.jpg's size");
    }
  } check_after;
  absl::StatusOr<JpegHeader> header = decoder.ReadHeader(jpeg, "fuzz.jpg");
  if (!header.ok()) {
    CheckError(header.status());
    return 0;
  }
  const int64_t width = header->width, height = header->height;
  FUZZ_CHECK(width > 0 && height > 0, "header size " + Size(width, height));
  FUZZ_CHECK(width * height <= MaxImagePixels(), "header size " + Size(width, height) + " beyond the pixel limit");

  const int min_size = (choice & 3) * 8;  // 0 = full size, else a DCT-scaled decode
  absl::StatusOr<RgbImage> image = decoder.Decode(jpeg, "fuzz.jpg", min_size, min_size);
  if (image.ok()) {
    CheckPixels(*image);
    // The DCT factor: the largest of 1, 2, 4, 8 whose decode is still min_size on both sides, 1 when none is.
    int denominator = 1;
    for (int d = 2; d <= 8 && min_size > 0; d *= 2) {
      if (ScaledUp(width, d) >= min_size && ScaledUp(height, d) >= min_size) denominator = d;
    }
    FUZZ_CHECK(image->width == ScaledUp(width, denominator) && image->height == ScaledUp(height, denominator),
               "decoded " + Size(image->width, image->height) + " from " + Size(width, height) + " for at least " +
                   std::to_string(min_size) + " pixels a side; expected the factor 1/" + std::to_string(denominator));
  } else {
    CheckError(image.status());
  }

  TransformOptions options;
  options.output_size = 16;
  options.train = (choice & 4) != 0;
  const bool channels_last = (choice & 8) != 0;
  std::mt19937_64 rng(choice);
  const CropBox box = ChooseCrop(header->width, header->height, options, rng);
  CheckCrop(box, header->width, header->height, options.train);
  std::vector<float> out(3 * options.output_size * options.output_size);
  if (image.ok()) {
    ResampleNormalize(*image, header->width, header->height, box, options, channels_last, out.data());
    CheckTransformed(out, options, channels_last);
  }
  absl::StatusOr<DecodedRegion> region = DecodeCropWindow(jpeg, "fuzz.jpg", box, options.output_size);
  if (!region.ok()) {
    CheckError(region.status());
    return 0;
  }
  CheckPixels(region->image);
  const int d = region->scale_denominator;
  FUZZ_CHECK(d == 1 || d == 2 || d == 4 || d == 8, "window scale 1/" + std::to_string(d));
  const int64_t scaled_width = ScaledUp(width, d), scaled_height = ScaledUp(height, d);
  const std::string window = "window " + Size(region->image.width, region->image.height) + " at (" +
                             std::to_string(region->offset_x) + ", " + std::to_string(region->offset_y) + ") of " +
                             Size(scaled_width, scaled_height) + " (1/" + std::to_string(d) + " of " +
                             Size(width, height) + ")";
  FUZZ_CHECK(region->offset_x >= 0 && region->offset_x + region->image.width <= scaled_width, window);
  FUZZ_CHECK(region->offset_y >= 0 && region->offset_y + region->image.height <= scaled_height, window);
  // The window covers the crop (in scaled pixels, clamped to the image).
  FUZZ_CHECK(region->offset_x <= std::floor(box.x0 / d) &&
                 region->offset_x + region->image.width >= std::min<double>(std::ceil(box.x1 / d), scaled_width),
             window + " does not cover the crop's columns");
  FUZZ_CHECK(region->offset_y <= std::floor(box.y0 / d) &&
                 region->offset_y + region->image.height >= std::min<double>(std::ceil(box.y1 / d), scaled_height),
             window + " does not cover the crop's rows");
  ResampleNormalize(region->image, PlacementOf(*region), box, options, channels_last, out.data());
  CheckTransformed(out, options, channels_last);
  return 0;
}
