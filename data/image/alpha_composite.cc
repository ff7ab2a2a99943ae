#include "data/image/alpha_composite.h"

namespace coco::data {

void CompositeOnWhite(const uint8_t* rgba, size_t pixels, uint8_t* rgb) {
  for (size_t i = 0; i < pixels; ++i) {
    const unsigned alpha = rgba[4 * i + 3];
    for (int c = 0; c < 3; ++c) {
      const unsigned value = rgba[4 * i + c] * alpha + 255u * (255u - alpha);
      rgb[3 * i + c] = static_cast<uint8_t>((value + 127u) / 255u);
    }
  }
}

}  // namespace coco::data
