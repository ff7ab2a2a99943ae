// A 5x7 pixel bitmap font (upper-case letters, digits, common punctuation) for captions in generated images.
//
// Not FreeType (libfreetype-dev is in Debian): it rasterises outline fonts, so it would need a font package and a
// font path found at run time, plus hinting choices, to draw captions seven pixels high. Glyph bitmaps for the
// characters COCO category names and numbers use are a small table with no file to find and identical output
// everywhere.
#ifndef DATA_IMAGE_BITMAP_FONT_H_
#define DATA_IMAGE_BITMAP_FONT_H_

#include <array>
#include <cstdint>
#include <string>

#include "data/image/jpeg_decoder.h"

namespace coco::data {

constexpr int kGlyphWidth = 5;
constexpr int kGlyphHeight = 7;
constexpr int kGlyphAdvance = 6;  // one pixel of spacing between glyphs

// Draws `text` with its top-left corner at (x, y), `scale` image pixels per font pixel, clipped to the image.
// Lower-case letters are drawn as capitals; characters the font lacks are drawn as '?'.
void DrawText(RgbImage& image, int x, int y, const std::string& text, std::array<uint8_t, 3> colour, int scale = 1);

// True if the font has a glyph for `c` (case-insensitive).
bool HasGlyph(char c);

}  // namespace coco::data

#endif  // DATA_IMAGE_BITMAP_FONT_H_
