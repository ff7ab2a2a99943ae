#include "data/emoji/emoji_sprite.h"

#include <png.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace coco::data {

namespace {

// Fills levels 1.. of `sprite` from level 0: each the 2x2 box average of the one above, down to 4 x 4.
void BuildMipmaps(Sprite& sprite) {
  sprite.levels.resize(1);
  for (int side = sprite.size / 2; side >= 4; side /= 2) {
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
}

}  // namespace

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
  BuildMipmaps(sprite);
  return sprite;
}

absl::StatusOr<Sprite> ReadSprite(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError("cannot open '" + path + "'");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (file.bad()) return absl::UnavailableError("cannot read '" + path + "'");
  return DecodeSprite(bytes, path);
}

Sprite LineArtVariant(const Sprite& sprite) {
  const int n = sprite.size;
  const std::vector<uint8_t>& rgba = sprite.levels[0];
  // Line width in texels: 2 at the installed 64 px (OpenMoji's lines are about 2-3 px at 64 px).
  const int width = std::max(1, n / 32);
  std::vector<uint8_t> solid(static_cast<size_t>(n) * n, 0);  // alpha >= 1/2
  std::vector<int> flat(static_cast<size_t>(n) * n, -1);      // flattened colour code, -1 outside
  for (int i = 0; i < n * n; ++i) {
    const unsigned alpha = rgba[static_cast<size_t>(i) * 4 + 3];
    if (alpha < 128) continue;
    solid[static_cast<size_t>(i)] = 1;
    int code = 0;
    for (int c = 0; c < 3; ++c) {
      const unsigned straight = (rgba[static_cast<size_t>(i) * 4 + c] * 255u + alpha / 2) / alpha;
      code = code * 4 + static_cast<int>(std::min(3u, (straight + 42) / 85));
    }
    flat[static_cast<size_t>(i)] = code;
  }
  // A texel is on a line if a texel within `width` (a square neighbourhood, so lines keep their width at any angle)
  // is outside the shape or has another flattened colour, and it is inside the shape or near it (the outer outline).
  std::vector<uint8_t> out(rgba.size(), 0);
  for (int y = 0; y < n; ++y) {
    for (int x = 0; x < n; ++x) {
      const int here = flat[static_cast<size_t>(y) * n + x];
      bool near_shape = here >= 0, edge = false;
      for (int dy = -width; dy <= width; ++dy) {
        for (int dx = -width; dx <= width; ++dx) {
          const int yy = y + dy, xx = x + dx;
          const int there = yy < 0 || xx < 0 || yy >= n || xx >= n ? -1 : flat[static_cast<size_t>(yy) * n + xx];
          if (there >= 0) near_shape = true;
          // Inside, a line needs a neighbour of another colour (or the outside) within half the width (at least 1), so
          // two regions' lines meet in one line about `width` wide, and the border line is that plus the outer outline.
          const bool close = std::max(std::abs(dx), std::abs(dy)) <= std::max(1, width / 2);
          if (here < 0 ? there >= 0 : (there != here && close)) edge = true;
        }
      }
      uint8_t* texel = &out[(static_cast<size_t>(y) * n + x) * 4];
      if (near_shape && edge) {
        texel[0] = texel[1] = texel[2] = 24;  // near-black line, opaque (premultiplied: colour <= alpha)
        texel[3] = 255;
      } else if (here >= 0) {
        for (int c = 0; c < 3; ++c) texel[2 - c] = static_cast<uint8_t>((here >> (2 * c) & 3) * 85);
        texel[3] = 255;
      }
    }
  }
  Sprite line_art;
  line_art.size = n;
  line_art.levels.push_back(std::move(out));
  BuildMipmaps(line_art);
  return line_art;
}

}  // namespace coco::data
