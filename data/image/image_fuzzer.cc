// Fuzz target: any file through DecodeImage (format by signature; PNG and WebP decoders, JPEG's whole decode), then
// the eval transform over what was decoded. Seeds: small PNGs (RGBA, palette, gray + alpha) and WebPs made by PIL.
//
// Invariants (image_decoder.h, image_format.h, jpeg_decoder.h, image_transforms.h): bytes that decode are in a
// format with a decoder; an error names the file; an image has a positive size within MaxImagePixels() and
// width x height x 3 bytes of pixels; decoding the same bytes again gives the same pixels (no state or uninitialised
// memory leaks into them); the eval crop lies inside the image and every output of the transform is finite and within
// the normalised range of [0, 255].
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "data/image/image_decoder.h"
#include "data/image/image_format.h"
#include "data/image/image_transforms.h"
#include "tools/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coco::data;
  static JpegDecoder jpeg;
  const std::vector<uint8_t> bytes(data, data + size);
  const ImageFormat format = DetectImageFormat(bytes);
  absl::StatusOr<RgbImage> image = DecodeImage(bytes, "fuzz.img", jpeg);
  if (!image.ok()) {
    FUZZ_CHECK(std::string(image.status().message()).find("'fuzz.img'") != std::string::npos,
               "an error must name the file: " + image.status().ToString());
    return 0;
  }
  FUZZ_CHECK(IsDecodable(format), "decoded bytes that look like " + ImageFormatName(format));
  const std::string what =
      ImageFormatName(format) + " of " + std::to_string(image->width) + " x " + std::to_string(image->height);
  FUZZ_CHECK(image->width > 0 && image->height > 0, what);
  FUZZ_CHECK(static_cast<int64_t>(image->width) * image->height <= MaxImagePixels(), what + " beyond the pixel limit");
  FUZZ_CHECK(image->pixels.size() == static_cast<size_t>(image->width) * image->height * 3,
             what + " with " + std::to_string(image->pixels.size()) + " bytes of RGB pixels");
  const absl::StatusOr<RgbImage> again = DecodeImage(bytes, "fuzz.img", jpeg);
  FUZZ_CHECK(again.ok(), "the second decode failed: " + again.status().ToString());
  FUZZ_CHECK(again->width == image->width && again->height == image->height && again->pixels == image->pixels,
             what + ": the second decode differs");

  TransformOptions options;
  options.output_size = 16;
  options.train = false;
  std::mt19937_64 rng(0);
  const CropBox box = ChooseCrop(image->width, image->height, options, rng);
  const double slack = 1e-9 * (1 + std::max(image->width, image->height));  // the box's arithmetic rounds
  FUZZ_CHECK(box.x0 >= -slack && box.x0 < box.x1 && box.x1 <= image->width + slack && box.y0 >= -slack &&
                 box.y0 < box.y1 && box.y1 <= image->height + slack && !box.flip,
             "the eval crop is not inside the " + what + " image");
  std::vector<float> out(3 * options.output_size * options.output_size);
  ResampleNormalize(*image, image->width, image->height, box, options, false, out.data());
  const size_t plane = static_cast<size_t>(options.output_size) * options.output_size;
  for (size_t i = 0; i < out.size(); ++i) {
    const size_t c = i / plane;
    const double low = -options.mean[c] / options.std[c], high = (1.0 - options.mean[c]) / options.std[c];
    FUZZ_CHECK(std::isfinite(out[i]) && out[i] >= low - 1e-3 && out[i] <= high + 1e-3,
               what + ": output " + std::to_string(i) + " = " + std::to_string(out[i]));
  }
  return 0;
}
