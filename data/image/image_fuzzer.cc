// Fuzz target: any file through DecodeImage (format by signature; PNG and WebP decoders, JPEG's whole decode), then
// the eval transform over what was decoded. Seeds: small PNGs (RGBA, palette, gray + alpha) and WebPs made by PIL.
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "data/image/image_decoder.h"
#include "data/image/image_transforms.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coco::data;
  static JpegDecoder jpeg;
  const std::vector<uint8_t> bytes(data, data + size);
  absl::StatusOr<RgbImage> image = DecodeImage(bytes, "fuzz.img", jpeg);
  if (!image.ok()) return 0;
  if (image->pixels.size() != static_cast<size_t>(image->width) * image->height * 3) __builtin_trap();
  TransformOptions options;
  options.output_size = 16;
  options.train = false;
  std::mt19937_64 rng(0);
  const CropBox box = ChooseCrop(image->width, image->height, options, rng);
  std::vector<float> out(3 * options.output_size * options.output_size);
  ResampleNormalize(*image, image->width, image->height, box, options, false, out.data());
  return 0;
}
