#include "data/image/webp_decoder.h"

#include <webp/decode.h>

#include "data/image/alpha_composite.h"

namespace coco::data {

absl::StatusOr<RgbImage> DecodeWebp(const std::vector<uint8_t>& webp, const std::string& name) {
  WebPBitstreamFeatures features;
  if (WebPGetFeatures(webp.data(), webp.size(), &features) != VP8_STATUS_OK) {
    return absl::InvalidArgumentError("cannot read the header of WebP '" + name + "' (truncated or not a WebP file)");
  }
  if (features.has_animation) {
    return absl::InvalidArgumentError("WebP '" + name + "' is animated; only still WebP images are supported");
  }
  if (absl::Status size = CheckImagePixels(features.width, features.height, name); !size.ok()) return size;
  RgbImage image;
  image.width = features.width;
  image.height = features.height;
  const size_t pixels = static_cast<size_t>(features.width) * features.height;
  const int channels = features.has_alpha ? 4 : 3;
  std::vector<uint8_t> decoded(pixels * channels);
  const int stride = features.width * channels;
  const uint8_t* result = features.has_alpha
                              ? WebPDecodeRGBAInto(webp.data(), webp.size(), decoded.data(), decoded.size(), stride)
                              : WebPDecodeRGBInto(webp.data(), webp.size(), decoded.data(), decoded.size(), stride);
  if (result == nullptr) return absl::InvalidArgumentError("cannot decode WebP '" + name + "' (truncated or corrupt)");
  if (features.has_alpha) {
    CompositeOnWhite(decoded.data(), pixels, decoded.data());
    decoded.resize(pixels * 3);
  }
  image.pixels = std::move(decoded);
  return image;
}

}  // namespace coco::data
