// Turns RGBA pixels into RGB by compositing them over a white background, as a viewer shows a transparent image on a
// white page: the colour under a fully transparent pixel (often black, whatever the editor left) never shows.
#ifndef DATA_IMAGE_ALPHA_COMPOSITE_H_
#define DATA_IMAGE_ALPHA_COMPOSITE_H_

#include <cstddef>
#include <cstdint>

namespace coco::data {

// rgb[3i + c] = round((rgba[4i + c] * a + 255 * (255 - a)) / 255) with a = rgba[4i + 3], for `pixels` pixels.
// `rgb` may alias `rgba` (it is written front to back, never ahead of what has been read).
void CompositeOnWhite(const uint8_t* rgba, size_t pixels, uint8_t* rgb);

}  // namespace coco::data

#endif  // DATA_IMAGE_ALPHA_COMPOSITE_H_
