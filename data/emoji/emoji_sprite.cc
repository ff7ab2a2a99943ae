#include "data/emoji/emoji_sprite.h"

#include <png.h>

#include <fstream>
#include <iterator>

namespace coco::data {

absl::StatusOr<Sprite> DecodeSprite(const std::vector<uint8_t>& png, const std::string& name) {
  if (png.size() < 8 || png_sig_cmp(png.data(), 0, 8) != 0) {
    return absl::InvalidArgumentError("'" + name + "' is not a PNG file (no PNG signature)");
  }
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, png.data(), png.size())) {
    const std::string message = image.message;
    png_image_free(&image);
    return absl::InvalidArgumentError("cannot decode PNG '" + name + "': " + message);
  }
  const int width = static_cast<int>(image.width), height = static_cast<int>(image.height);
  if (width != height || width < 8 || width > 512 || (width & (width - 1)) != 0) {
    png_image_free(&image);
    return absl::InvalidArgumentError("PNG '" + name + "' is " + std::to_string(width) + " x " +
                                      std::to_string(height) +
                                      "; expected a square whose side is a power of two in [8, 512] (64 as installed)");
  }
  image.format = PNG_FORMAT_RGBA;
  std::vector<uint8_t> rgba(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, rgba.data(), 0, nullptr)) {
    const std::string message = image.message;
    png_image_free(&image);
    return absl::InvalidArgumentError("cannot decode PNG '" + name + "': " + message);
  }
  // A warning (an ancillary chunk libpng disliked) still leaves a complete image: keep it.
  png_image_free(&image);

  Sprite sprite;
  sprite.size = width;
  for (size_t i = 0; i < rgba.size(); i += 4) {
    const unsigned alpha = rgba[i + 3];
    for (int c = 0; c < 3; ++c) rgba[i + c] = static_cast<uint8_t>((rgba[i + c] * alpha + 127u) / 255u);
  }
  sprite.levels.push_back(std::move(rgba));
  for (int side = width / 2; side >= 4; side /= 2) {
    const std::vector<uint8_t>& above = sprite.levels.back();
    std::vector<uint8_t> level(static_cast<size_t>(side) * side * 4);
    const int above_side = side * 2;
    for (int y = 0; y < side; ++y) {
      for (int x = 0; x < side; ++x) {
        for (int c = 0; c < 4; ++c) {
          const auto at = [&](int yy, int xx) {
            return static_cast<unsigned>(above[(static_cast<size_t>(yy) * above_side + xx) * 4 + c]);
          };
          const unsigned sum =
              at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1);
          level[(static_cast<size_t>(y) * side + x) * 4 + c] = static_cast<uint8_t>((sum + 2) / 4);
        }
      }
    }
    sprite.levels.push_back(std::move(level));
  }
  return sprite;
}

absl::StatusOr<Sprite> ReadSprite(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError("cannot open '" + path + "'");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (file.bad()) return absl::UnavailableError("cannot read '" + path + "'");
  return DecodeSprite(bytes, path);
}

}  // namespace coco::data
