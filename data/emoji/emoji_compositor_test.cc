// Sprites decoded from PNGs the test writes (libpng's simplified writer), and pastes whose pixels are worked by hand:
// placement, alpha blending, rotation, mirroring, occlusion counts and the colour jitter's matrix.
#include "data/emoji/emoji_compositor.h"

#include <png.h>

#include <array>
#include <cmath>

#include "data/emoji/emoji_sprite.h"
#include "gtest/gtest.h"

namespace coco::data {
namespace {

constexpr float kTol = 1e-3f;

// An RGBA PNG of `side` x `side` pixels, pixel (x, y) = colour(x, y).
template <typename Colour>
std::vector<uint8_t> RgbaPng(int side, Colour colour) {
  std::vector<uint8_t> rgba(static_cast<size_t>(side) * side * 4);
  for (int y = 0; y < side; ++y) {
    for (int x = 0; x < side; ++x) {
      const std::array<uint8_t, 4> c = colour(x, y);
      std::copy(c.begin(), c.end(), &rgba[(static_cast<size_t>(y) * side + x) * 4]);
    }
  }
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(side);
  image.height = static_cast<png_uint_32>(side);
  image.format = PNG_FORMAT_RGBA;
  png_alloc_size_t size = 0;
  EXPECT_TRUE(png_image_write_to_memory(&image, nullptr, &size, 0, rgba.data(), 0, nullptr));
  std::vector<uint8_t> png(size);
  EXPECT_TRUE(png_image_write_to_memory(&image, png.data(), &size, 0, rgba.data(), 0, nullptr));
  png.resize(size);
  return png;
}

Sprite Solid(int side, std::array<uint8_t, 4> colour) {
  absl::StatusOr<Sprite> sprite = DecodeSprite(RgbaPng(side, [&](int, int) { return colour; }), "solid.png");
  EXPECT_TRUE(sprite.ok()) << sprite.status();
  return *sprite;
}

Canvas White(int side) {
  Canvas canvas(side, side);
  std::fill(canvas.rgb.begin(), canvas.rgb.end(), 255.0f);
  return canvas;
}

const float* At(const Canvas& canvas, int x, int y) {
  return &canvas.rgb[(static_cast<size_t>(y) * canvas.width + x) * 3];
}

TEST(EmojiSpriteTest, PremultipliesAndAveragesEachMipLevel) {
  // 8 x 8: the left half (255, 100, 0) at alpha 102 (40%), the right half transparent.
  const absl::StatusOr<Sprite> sprite =
      DecodeSprite(RgbaPng(8,
                           [](int x, int) {
                             return x < 4 ? std::array<uint8_t, 4>{255, 100, 0, 102} : std::array<uint8_t, 4>{};
                           }),
                   "half.png");
  ASSERT_TRUE(sprite.ok()) << sprite.status();
  ASSERT_EQ(sprite->size, 8);
  ASSERT_EQ(sprite->levels.size(), 2u);  // 8 x 8 and 4 x 4
  const std::vector<uint8_t>& top = sprite->levels[0];
  // round(255 * 102 / 255) = 102, round(100 * 102 / 255) = 40.
  EXPECT_EQ(top[0], 102);
  EXPECT_EQ(top[1], 40);
  EXPECT_EQ(top[2], 0);
  EXPECT_EQ(top[3], 102);
  EXPECT_EQ(top[4 * 4 + 3], 0);  // pixel (4, 0)
  // Level 1 pixel (1, 0) averages level-0 pixels x = 2, 3 (all left half); pixel (2, 0) averages x = 4, 5 (none).
  const std::vector<uint8_t>& half = sprite->levels[1];
  EXPECT_EQ(half[1 * 4 + 3], 102);
  EXPECT_EQ(half[2 * 4 + 3], 0);
}

// 64 x 64 (lines 2 texels wide): a 32 x 32 square at [16, 48) whose left half is (200, 40, 40) and right half
// (20, 30, 230), both opaque, on transparency. Flattened to 4 levels per channel (k * 85, nearest): (170, 0, 0) and
// (0, 0, 255). Worked by hand: outside, texels within 2 (Chebyshev) of the square are line; inside, texels within 1
// of the outside or of the other colour are line; the rest keep their flattened colour.
TEST(EmojiSpriteTest, LineArtFlattensColoursAndDrawsOutlinesAndColourBorders) {
  const absl::StatusOr<Sprite> sprite = DecodeSprite(
      RgbaPng(64,
              [](int x, int y) {
                if (x < 16 || x >= 48 || y < 16 || y >= 48) {
                  return std::array<uint8_t, 4>{};
                }
                return x < 32 ? std::array<uint8_t, 4>{200, 40, 40, 255} : std::array<uint8_t, 4>{20, 30, 230, 255};
              }),
      "square.png");
  ASSERT_TRUE(sprite.ok()) << sprite.status();
  const Sprite line_art = LineArtVariant(*sprite);
  ASSERT_EQ(line_art.size, 64);
  ASSERT_EQ(line_art.levels.size(), sprite->levels.size());  // mipmaps rebuilt down to 4 x 4
  const auto texel = [&](int x, int y) {
    const uint8_t* t = &line_art.levels[0][(static_cast<size_t>(y) * 64 + x) * 4];
    return std::array<int, 4>{t[0], t[1], t[2], t[3]};
  };
  const std::array<int, 4> line{24, 24, 24, 255}, red{170, 0, 0, 255}, blue{0, 0, 255, 255}, none{0, 0, 0, 0};
  int lines = 0;
  for (int y = 0; y < 64; ++y) {
    for (int x = 0; x < 64; ++x) {
      const bool inside = x >= 16 && x < 48 && y >= 16 && y < 48;
      const int to_outside = inside ? std::min({x - 16, 47 - x, y - 16, 47 - y}) + 1
                                    : std::max({16 - x, x - 47, 16 - y, y - 47});  // Chebyshev to the square
      std::array<int, 4> expected = none;
      if (inside) {
        const bool colour_border = x == 31 || x == 32;
        expected = to_outside <= 1 || colour_border ? line : (x < 32 ? red : blue);
      } else if (to_outside <= 2) {
        expected = line;
      }
      ASSERT_EQ(texel(x, y), expected) << "texel (" << x << ", " << y << ")";
      lines += expected == line;
    }
  }
  EXPECT_EQ(lines, 36 * 36 - 30 * 30 + 2 * 30);  // the outline ring, 6 texels wide in all, and the 2-wide divide
}

TEST(EmojiSpriteTest, TruncatedNonSquareAndForeignDataAreErrorsNamingTheFile) {
  std::vector<uint8_t> png = RgbaPng(16, [](int x, int y) { return std::array<uint8_t, 4>{1, 2, 3, 255}; });
  png.resize(png.size() / 2);
  absl::StatusOr<Sprite> truncated = DecodeSprite(png, "third_party/npm/emoji/google/1f415.png");
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.status().message().find("third_party/npm/emoji/google/1f415.png"), std::string::npos);

  absl::StatusOr<Sprite> text = DecodeSprite({'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'}, "x.png");
  ASSERT_FALSE(text.ok());
  EXPECT_NE(text.status().message().find("'x.png' is not a PNG file"), std::string::npos);

  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = 16;
  image.height = 8;
  image.format = PNG_FORMAT_RGBA;
  std::vector<uint8_t> pixels(16 * 8 * 4, 255), bytes(4096);
  png_alloc_size_t size = bytes.size();
  ASSERT_TRUE(png_image_write_to_memory(&image, bytes.data(), &size, 0, pixels.data(), 0, nullptr));
  bytes.resize(size);
  absl::StatusOr<Sprite> wide = DecodeSprite(bytes, "wide.png");
  ASSERT_FALSE(wide.ok());
  EXPECT_NE(wide.status().message().find("'wide.png' is 16 x 8"), std::string::npos);
}

TEST(EmojiCompositorTest, UnrotatedPasteAtNativeSizeCopiesTheSpriteExactly) {
  const Sprite red = Solid(8, {255, 0, 0, 255});
  Canvas canvas = White(20);
  PastePlan plan;
  plan.cx = 10, plan.cy = 10, plan.side = 8;
  const PastedBox box = Paste(red, plan, 0, canvas);
  // The square spans [6, 14) on both axes; texel centres land on pixel centres, so no blending at its edges.
  EXPECT_EQ(box.x0, 6);
  EXPECT_EQ(box.y0, 6);
  EXPECT_EQ(box.x1, 14);
  EXPECT_EQ(box.y1, 14);
  EXPECT_EQ(box.opaque_pixels, 64);
  EXPECT_NEAR(At(canvas, 6, 6)[0], 255, kTol);
  EXPECT_NEAR(At(canvas, 6, 6)[1], 0, kTol);
  EXPECT_NEAR(At(canvas, 13, 13)[2], 0, kTol);
  EXPECT_NEAR(At(canvas, 5, 10)[1], 255, kTol);  // white outside
  EXPECT_NEAR(At(canvas, 14, 10)[1], 255, kTol);
  EXPECT_EQ(canvas.owner[10 * 20 + 10], 0);
  EXPECT_EQ(canvas.owner[10 * 20 + 14], -1);
}

TEST(EmojiCompositorTest, HalfTransparentPasteBlendsOver) {
  // Blue at alpha 128 over white: 0 * 128/255 + 255 * (1 - 128/255) = 127 for red and green, 255 for blue.
  const Sprite blue = Solid(8, {0, 0, 255, 128});
  Canvas canvas = White(20);
  PastePlan plan;
  plan.cx = 10, plan.cy = 10, plan.side = 8;
  const PastedBox box = Paste(blue, plan, 3, canvas);
  EXPECT_NEAR(At(canvas, 10, 10)[0], 127, kTol);
  EXPECT_NEAR(At(canvas, 10, 10)[2], 128 + 255 * (1 - 128 / 255.0), kTol);
  EXPECT_EQ(box.opaque_pixels, 64);  // 128 >= 255 / 2
}

// Left half red, right half blue.
Sprite Halves() {
  absl::StatusOr<Sprite> sprite = DecodeSprite(
      RgbaPng(8,
              [](int x, int) {
                return x < 4 ? std::array<uint8_t, 4>{255, 0, 0, 255} : std::array<uint8_t, 4>{0, 0, 255, 255};
              }),
      "halves.png");
  EXPECT_TRUE(sprite.ok());
  return *sprite;
}

TEST(EmojiCompositorTest, QuarterTurnClockwiseMovesTheRightHalfDown) {
  // On screen (y down) a clockwise quarter turn takes the sprite's right (+x) to below its centre (+y).
  Canvas canvas = White(20);
  PastePlan plan;
  plan.cx = 10, plan.cy = 10, plan.side = 8, plan.angle = std::acos(-1.0) / 2;
  Paste(Halves(), plan, 0, canvas);
  EXPECT_NEAR(At(canvas, 10, 7)[0], 255, kTol);  // above the centre: red
  EXPECT_NEAR(At(canvas, 10, 7)[2], 0, kTol);
  EXPECT_NEAR(At(canvas, 10, 12)[0], 0, kTol);  // below: blue
  EXPECT_NEAR(At(canvas, 10, 12)[2], 255, kTol);
}

TEST(EmojiCompositorTest, MirrorSwapsLeftAndRight) {
  Canvas canvas = White(20);
  PastePlan plan;
  plan.cx = 10, plan.cy = 10, plan.side = 8, plan.mirror = true;
  Paste(Halves(), plan, 0, canvas);
  EXPECT_NEAR(At(canvas, 7, 10)[2], 255, kTol);   // left: blue
  EXPECT_NEAR(At(canvas, 12, 10)[0], 255, kTol);  // right: red
}

TEST(EmojiCompositorTest, HalvedSizeAveragesTheNextMipLevel) {
  // At side 4 the 8-px sprite is sampled from its 4 x 4 level: a 2-px red and a 2-px blue band, no colour leaking
  // across the pixel centres.
  Canvas canvas = White(20);
  PastePlan plan;
  plan.cx = 10, plan.cy = 10, plan.side = 4;
  const PastedBox box = Paste(Halves(), plan, 0, canvas);
  EXPECT_EQ(box.opaque_pixels, 16);
  EXPECT_NEAR(At(canvas, 8, 9)[0], 255, kTol);
  EXPECT_NEAR(At(canvas, 11, 9)[2], 255, kTol);
}

TEST(EmojiCompositorTest, VisiblePixelsCountWhatLaterPastesLeave) {
  const Sprite red = Solid(8, {255, 0, 0, 255});
  Canvas canvas = White(20);
  PastePlan first, second;
  first.cx = 8, first.cy = 8, first.side = 8;       // [4, 12)^2
  second.cx = 12, second.cy = 12, second.side = 8;  // [8, 16)^2: covers [8, 12)^2 of the first, 16 pixels
  Paste(red, first, 0, canvas);
  Paste(red, second, 1, canvas);
  const std::vector<int64_t> visible = VisiblePixels(canvas, 2);
  EXPECT_EQ(visible[0], 64 - 16);
  EXPECT_EQ(visible[1], 64);
}

TEST(EmojiCompositorTest, BlurSpreadsAlphaButKeepsTheBoxNearTheSprite) {
  Canvas canvas = White(32);
  PastePlan plan;
  plan.cx = 16, plan.cy = 16, plan.side = 8, plan.blur_sigma = 1.0;
  const PastedBox box = Paste(Solid(8, {0, 0, 0, 255}), plan, 0, canvas);
  // An edge blurred symmetrically stays at alpha 1/2 on the edge itself: the box is the sprite's, give or take one.
  EXPECT_NEAR(box.x0, 12, 1);
  EXPECT_NEAR(box.x1, 20, 1);
  EXPECT_GT(At(canvas, 11, 16)[0], 0);  // some ink beyond the edge
  EXPECT_LT(At(canvas, 11, 16)[0], 255);
}

TEST(ColourTransformTest, MatchesTheFormulas) {
  const ColourTransform identity = ColourTransform::Jitter(1, 1, 1, 0);
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(identity.m[r][c], r == c ? 1 : 0, kTol);
    EXPECT_NEAR(identity.offset[r], 0, kTol);
  }
  // Saturation 0: every channel becomes Rec. 601 luma; pure red -> 0.299 * 255.
  const ColourTransform grey = ColourTransform::Jitter(1, 1, 0, 0);
  for (int r = 0; r < 3; ++r) EXPECT_NEAR(grey.m[r][0] * 255, 0.299 * 255, kTol);
  // Contrast 0.5 about 128: 255 -> 128 + 0.5 * 127 = 191.5.
  const ColourTransform flat = ColourTransform::Jitter(1, 0.5, 1, 0);
  EXPECT_NEAR(flat.m[0][0] * 255 + flat.offset[0], 191.5, kTol);
  // A 120-degree hue turn about the grey axis permutes the channels: red -> green.
  const ColourTransform turn = ColourTransform::Jitter(1, 1, 1, 120);
  EXPECT_NEAR(turn.m[0][0], 0, kTol);
  EXPECT_NEAR(turn.m[1][0], 1, kTol);
  EXPECT_NEAR(turn.m[2][0], 0, kTol);
}

TEST(EmojiCompositorTest, FinishScalesBrightnessAndRounds) {
  Canvas canvas(2, 1);
  canvas.rgb = {200, 100, 0, 255, 10.2f, 1};
  const std::vector<uint8_t> rgb = FinishRgb(canvas, 0.5, 0, 7);
  EXPECT_EQ(rgb, (std::vector<uint8_t>{100, 50, 0, 128, 5, 1}));  // 127.5 -> 128, 5.1 -> 5, 0.5 -> 1
}

}  // namespace
}  // namespace coco::data
