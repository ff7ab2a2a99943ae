// An emoji image decoded once, with its alpha channel kept, as a mipmap pyramid of premultiplied RGBA for fast,
// antialiased scaling when it is pasted (emoji_compositor.h).
//
// Not data/image/png_decoder.h: DecodePng composites transparency over white, and a paste needs the alpha channel.
// This reads RGBA with libpng's simplified API; errors name the file the same way.
#ifndef DATA_EMOJI_EMOJI_SPRITE_H_
#define DATA_EMOJI_EMOJI_SPRITE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace coco::data {

struct Sprite {
  int size = 0;  // side of level 0, pixels (a power of two)
  // levels[k]: (size >> k)^2 pixels of premultiplied RGBA (r, g, b <= a), row-major; each level is the 2x2 box
  // average of the one above it, down to 4 x 4.
  std::vector<std::vector<uint8_t>> levels;
};

// Decodes a square PNG whose side is a power of two in [8, 512] (the installed artwork is 64 x 64). Errors name
// `name`: no PNG signature, truncated or corrupt data, a non-square or odd size.
absl::StatusOr<Sprite> DecodeSprite(const std::vector<uint8_t>& png, const std::string& name);

// Reads and decodes the file at `path`.
absl::StatusOr<Sprite> ReadSprite(const std::string& path);

// The same emoji redrawn as line art, the look of OpenMoji-style sets: colours flattened to 4 levels per channel, a
// dark line along the shape's border and wherever two flattened colours meet. Training on such variants of Noto and
// Twemoji teaches features that survive a change of drawing style (domain randomisation), without ever showing the
// held-out style itself.
Sprite LineArtVariant(const Sprite& sprite);

}  // namespace coco::data

#endif  // DATA_EMOJI_EMOJI_SPRITE_H_
