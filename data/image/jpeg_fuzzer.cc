// Fuzz target: a JPEG through every way the loader reads one - header, full decode, DCT-scaled decode, the windowed
// region decoder, and the train/eval transforms over what was decoded.
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "data/image/image_transforms.h"
#include "data/image/jpeg_decoder.h"
#include "data/image/jpeg_region_decoder.h"
#include "data/image/jpeg_test_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coco::data;
  if (size < 1) return 0;
  const uint8_t choice = data[0];  // the first byte picks sizes and the crop; the rest is the file
  const std::vector<uint8_t> jpeg(data + 1, data + size);
  static JpegDecoder decoder;
  // The decoder is reused, as a loader thread reuses its own: whatever this input did, a valid file must still decode
  // afterwards (a corrupt header once left libjpeg-turbo's handle unable to read the next file).
  struct CheckStillDecodes {
    ~CheckStillDecodes() {
      static const std::vector<uint8_t> valid = EncodeTestJpeg(GradientRgb(8, 8), 8, 8, TestJpegKind::kRgb);
      if (!decoder.Decode(valid, "valid.jpg").ok()) __builtin_trap();
    }
  } check_after;
  absl::StatusOr<JpegHeader> header = decoder.ReadHeader(jpeg, "fuzz.jpg");
  if (!header.ok()) return 0;

  const int min_size = (choice & 3) * 8;  // 0 = full size, else a DCT-scaled decode
  absl::StatusOr<RgbImage> image = decoder.Decode(jpeg, "fuzz.jpg", min_size, min_size);

  TransformOptions options;
  options.output_size = 16;
  options.train = (choice & 4) != 0;
  std::mt19937_64 rng(choice);
  const CropBox box = ChooseCrop(header->width, header->height, options, rng);
  std::vector<float> out(3 * options.output_size * options.output_size);
  if (image.ok()) {
    ResampleNormalize(*image, header->width, header->height, box, options, (choice & 8) != 0, out.data());
  }
  absl::StatusOr<DecodedRegion> region = DecodeCropWindow(jpeg, "fuzz.jpg", box, options.output_size);
  if (region.ok()) {
    ResampleNormalize(region->image, PlacementOf(*region), box, options, (choice & 8) != 0, out.data());
  }
  return 0;
}
