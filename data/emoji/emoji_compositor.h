// Draws the pictures of the emoji data sets: a background, then emoji sprites pasted one over another (scaled with
// trilinear mipmap sampling, rotated, mirrored, colour-jittered, sometimes blurred), each paste measured (its tight
// box and how many of its pixels stay visible under later pastes), then brightness and sensor noise.
#ifndef DATA_EMOJI_EMOJI_COMPOSITOR_H_
#define DATA_EMOJI_EMOJI_COMPOSITOR_H_

#include <cstdint>
#include <vector>

#include "data/emoji/emoji_sprite.h"

namespace coco::data {

struct Rgb {
  float r = 0, g = 0, b = 0;  // 0..255
};

enum class BackgroundKind { kFlat, kLinear, kRadial, kBlotches, kNoise };

struct BackgroundPlan {
  BackgroundKind kind = BackgroundKind::kFlat;
  Rgb colors[4];
  double direction = 0;                 // radians: the linear gradient's direction, and the blotches' warp
  double focus_x = 0.5, focus_y = 0.5;  // the radial gradient's centre, fractions of the image
  uint64_t noise_seed = 0;              // kNoise: its coarse grid and grain
};

// A float RGB picture and, per pixel, the id of the topmost paste that covers it (alpha >= 1/2), or -1.
struct Canvas {
  Canvas(int width, int height);
  int width, height;
  std::vector<float> rgb;      // height x width x 3, 0..255
  std::vector<int16_t> owner;  // height x width
};

void PaintBackground(const BackgroundPlan& plan, Canvas& canvas);

// An affine colour map applied to each pasted pixel: c' = m c + offset (un-premultiplied, 0..255).
struct ColourTransform {
  float m[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  float offset[3] = {0, 0, 0};
  // brightness and contrast (about mid grey 128) as factors, saturation as a factor (0: grey, by Rec. 601 luma),
  // hue as a rotation about the grey axis in degrees.
  static ColourTransform Jitter(double brightness, double contrast, double saturation, double hue_degrees);
};

struct PastePlan {
  double cx = 0, cy = 0;  // where the sprite's centre goes, pixels
  double side = 0;        // the sprite's square spans this many pixels
  double angle = 0;       // radians, clockwise on screen
  bool mirror = false;    // flipped left-right before rotating
  ColourTransform colour;
  double blur_sigma = 0;  // Gaussian blur of the pasted sprite, pixels (0: none)
};

// The paste's pixels with alpha >= 1/2 after blurring: their tight box (x1, y1 exclusive) and count. Empty (count
// 0, box all zero) when none lands on the canvas.
struct PastedBox {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  int64_t opaque_pixels = 0;
};

// Composites `sprite` over the canvas ("over", premultiplied) and marks the pixels it covers with `owner_id`.
PastedBox Paste(const Sprite& sprite, const PastePlan& plan, int16_t owner_id, Canvas& canvas);

// Pixels whose topmost paste is each id in [0, ids).
std::vector<int64_t> VisiblePixels(const Canvas& canvas, int ids);

// Scales the picture by `brightness`, adds uniform noise in [-noise, noise] (from `noise_seed`) and rounds to bytes.
std::vector<uint8_t> FinishRgb(const Canvas& canvas, double brightness, double noise, uint64_t noise_seed);

}  // namespace coco::data

#endif  // DATA_EMOJI_EMOJI_COMPOSITOR_H_
