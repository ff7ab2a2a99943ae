#include "data/emoji/emoji_compositor.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "data/emoji/emoji_random.h"

namespace coco::data {
namespace {

constexpr double kPi = 3.14159265358979323846;

Rgb Mix(const Rgb& a, const Rgb& b, double t) {
  const float u = static_cast<float>(t);
  return {a.r + (b.r - a.r) * u, a.g + (b.g - a.g) * u, a.b + (b.b - a.b) * u};
}

// Premultiplied RGBA (0..255) of `level` at texel coordinates (s, t), bilinear; outside the sprite is transparent.
void SampleLevel(const std::vector<uint8_t>& level, int side, double s, double t, float out[4]) {
  const double fx = s - 0.5, fy = t - 0.5;
  const int x0 = static_cast<int>(std::floor(fx)), y0 = static_cast<int>(std::floor(fy));
  const float wx = static_cast<float>(fx - x0), wy = static_cast<float>(fy - y0);
  out[0] = out[1] = out[2] = out[3] = 0;
  for (int dy = 0; dy < 2; ++dy) {
    const int y = y0 + dy;
    if (y < 0 || y >= side) continue;
    const float weight_y = dy == 0 ? 1 - wy : wy;
    for (int dx = 0; dx < 2; ++dx) {
      const int x = x0 + dx;
      if (x < 0 || x >= side) continue;
      const float weight = weight_y * (dx == 0 ? 1 - wx : wx);
      const uint8_t* texel = &level[(static_cast<size_t>(y) * side + x) * 4];
      for (int c = 0; c < 4; ++c) out[c] += weight * texel[c];
    }
  }
}

// Separable Gaussian blur of a w x h premultiplied RGBA float buffer; outside it is transparent.
void Blur(std::vector<float>& rgba, int w, int h, double sigma) {
  const int radius = std::max(1, static_cast<int>(std::ceil(3 * sigma)));
  std::vector<float> kernel(static_cast<size_t>(2 * radius + 1));
  float total = 0;
  for (int i = -radius; i <= radius; ++i) {
    kernel[static_cast<size_t>(i + radius)] = static_cast<float>(std::exp(-0.5 * i * i / (sigma * sigma)));
    total += kernel[static_cast<size_t>(i + radius)];
  }
  for (float& k : kernel) k /= total;
  std::vector<float> temporary(rgba.size());
  for (int pass = 0; pass < 2; ++pass) {
    const std::vector<float>& in = pass == 0 ? rgba : temporary;
    std::vector<float>& out = pass == 0 ? temporary : rgba;
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        float sum[4] = {0, 0, 0, 0};
        for (int i = -radius; i <= radius; ++i) {
          const int xx = pass == 0 ? x + i : x, yy = pass == 0 ? y : y + i;
          if (xx < 0 || xx >= w || yy < 0 || yy >= h) continue;
          const float* p = &in[(static_cast<size_t>(yy) * w + xx) * 4];
          const float k = kernel[static_cast<size_t>(i + radius)];
          for (int c = 0; c < 4; ++c) sum[c] += k * p[c];
        }
        std::copy(sum, sum + 4, &out[(static_cast<size_t>(y) * w + x) * 4]);
      }
    }
  }
}

}  // namespace

Canvas::Canvas(int w, int h)
    : width(w), height(h), rgb(static_cast<size_t>(w) * h * 3, 0.0f), owner(static_cast<size_t>(w) * h, -1) {}

void PaintBackground(const BackgroundPlan& plan, Canvas& canvas) {
  const int w = canvas.width, h = canvas.height;
  const double dx = std::cos(plan.direction), dy = std::sin(plan.direction);
  // kNoise: a coarse grid of random blend factors, bilinearly interpolated, plus a fine grain.
  constexpr int kGrid = 6;
  std::array<double, (kGrid + 1) * (kGrid + 1)> grid{};
  EmojiRng rng(plan.noise_seed);
  for (double& value : grid) value = rng.Uniform();
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const double fx = (x + 0.5) / w, fy = (y + 0.5) / h;
      Rgb color = plan.colors[0];
      switch (plan.kind) {
        case BackgroundKind::kFlat: break;
        case BackgroundKind::kLinear:
          color = Mix(plan.colors[0], plan.colors[1], std::clamp(0.5 + (fx - 0.5) * dx + (fy - 0.5) * dy, 0.0, 1.0));
          break;
        case BackgroundKind::kRadial:
          color = Mix(plan.colors[2], plan.colors[3],
                      std::min(1.0, std::hypot(fx - plan.focus_x, fy - plan.focus_y) * 1.6));
          break;
        case BackgroundKind::kBlotches: {
          const double u = 0.5 + 0.5 * std::sin(3 * fx + 2 * plan.direction + 2 * fy);
          const double v = 0.5 + 0.5 * std::sin(3 * fy + plan.direction + 2.5 * fx * fy);
          color = Mix(Mix(plan.colors[0], plan.colors[1], u), Mix(plan.colors[2], plan.colors[3], u), v);
          break;
        }
        case BackgroundKind::kNoise: {
          const double gx = fx * kGrid, gy = fy * kGrid;
          const int ix = std::min(kGrid - 1, static_cast<int>(gx)), iy = std::min(kGrid - 1, static_cast<int>(gy));
          const double tx = gx - ix, ty = gy - iy;
          const auto at = [&](int yy, int xx) { return grid[static_cast<size_t>(yy * (kGrid + 1) + xx)]; };
          const double t = (at(iy, ix) * (1 - tx) + at(iy, ix + 1) * tx) * (1 - ty) +
                           (at(iy + 1, ix) * (1 - tx) + at(iy + 1, ix + 1) * tx) * ty;
          color = Mix(plan.colors[0], plan.colors[1], t);
          const float grain = static_cast<float>(rng.Uniform(-20, 20));
          color = {color.r + grain, color.g + grain, color.b + grain};
          break;
        }
      }
      float* pixel = &canvas.rgb[(static_cast<size_t>(y) * w + x) * 3];
      pixel[0] = color.r;
      pixel[1] = color.g;
      pixel[2] = color.b;
    }
  }
}

ColourTransform ColourTransform::Jitter(double brightness, double contrast, double saturation, double hue_degrees) {
  const double a = hue_degrees * kPi / 180, cos_a = std::cos(a), sin_a = std::sin(a);
  const double third = (1 - cos_a) / 3, root = std::sqrt(1.0 / 3) * sin_a;
  const double hue[3][3] = {{cos_a + third, third - root, third + root},
                            {third + root, cos_a + third, third - root},
                            {third - root, third + root, cos_a + third}};
  const double luma[3] = {0.299, 0.587, 0.114};
  ColourTransform transform;
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) {
      double value = 0;  // (saturation matrix x hue matrix)[r][c]
      for (int k = 0; k < 3; ++k) value += (saturation * (r == k) + (1 - saturation) * luma[k]) * hue[k][c];
      transform.m[r][c] = static_cast<float>(brightness * contrast * value);
    }
    transform.offset[r] = static_cast<float>(brightness * 128 * (1 - contrast));
  }
  return transform;
}

PastedBox Paste(const Sprite& sprite, const PastePlan& plan, int16_t owner_id, Canvas& canvas) {
  PastedBox box;
  const double cos_a = std::cos(plan.angle), sin_a = std::sin(plan.angle);
  const double half = plan.side / 2 * (std::abs(cos_a) + std::abs(sin_a));
  const int margin = plan.blur_sigma > 0 ? static_cast<int>(std::ceil(3 * plan.blur_sigma)) + 1 : 1;
  const int x0 = std::max(0, static_cast<int>(std::floor(plan.cx - half)) - margin);
  const int y0 = std::max(0, static_cast<int>(std::floor(plan.cy - half)) - margin);
  const int x1 = std::min(canvas.width, static_cast<int>(std::ceil(plan.cx + half)) + margin);
  const int y1 = std::min(canvas.height, static_cast<int>(std::ceil(plan.cy + half)) + margin);
  if (x1 <= x0 || y1 <= y0 || plan.side <= 0) return box;
  const int w = x1 - x0, h = y1 - y0;

  // Mipmap level of detail: log2 of sprite texels per canvas pixel, blended between the two nearest levels.
  const int levels = static_cast<int>(sprite.levels.size());
  const double lod = std::clamp(std::log2(sprite.size / plan.side), 0.0, levels - 1.0);
  const int level_a = static_cast<int>(lod), level_b = std::min(levels - 1, level_a + 1);
  const float blend = static_cast<float>(lod - level_a);
  const ColourTransform& colour = plan.colour;

  std::vector<float> local(static_cast<size_t>(w) * h * 4, 0.0f);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const double px = x0 + x + 0.5 - plan.cx, py = y0 + y + 0.5 - plan.cy;
      double u = cos_a * px + sin_a * py;  // the inverse rotation takes the canvas offset into the sprite's frame
      const double v = -sin_a * px + cos_a * py;
      if (plan.mirror) u = -u;
      const double s = (u / plan.side + 0.5) * sprite.size, t = (v / plan.side + 0.5) * sprite.size;
      if (s < -1 || t < -1 || s > sprite.size + 1 || t > sprite.size + 1) continue;
      float a[4], b[4];
      SampleLevel(sprite.levels[static_cast<size_t>(level_a)], sprite.size >> level_a, s / (1 << level_a),
                  t / (1 << level_a), a);
      if (blend > 0) {
        SampleLevel(sprite.levels[static_cast<size_t>(level_b)], sprite.size >> level_b, s / (1 << level_b),
                    t / (1 << level_b), b);
        for (int c = 0; c < 4; ++c) a[c] += (b[c] - a[c]) * blend;
      }
      const float alpha = a[3];
      if (alpha <= 0) continue;
      float* out = &local[(static_cast<size_t>(y) * w + x) * 4];
      for (int c = 0; c < 3; ++c) {
        const float value =
            colour.m[c][0] * a[0] + colour.m[c][1] * a[1] + colour.m[c][2] * a[2] + colour.offset[c] * alpha / 255.0f;
        out[c] = std::clamp(value, 0.0f, alpha);
      }
      out[3] = alpha;
    }
  }
  if (plan.blur_sigma > 0) Blur(local, w, h, plan.blur_sigma);

  box.x0 = canvas.width, box.y0 = canvas.height;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const float* source = &local[(static_cast<size_t>(y) * w + x) * 4];
      if (source[3] <= 0) continue;
      const size_t at = static_cast<size_t>(y0 + y) * canvas.width + (x0 + x);
      float* pixel = &canvas.rgb[at * 3];
      const float keep = 1 - source[3] / 255.0f;
      for (int c = 0; c < 3; ++c) pixel[c] = source[c] + pixel[c] * keep;
      if (source[3] >= 127.5f) {
        canvas.owner[at] = owner_id;
        ++box.opaque_pixels;
        box.x0 = std::min(box.x0, x0 + x), box.x1 = std::max(box.x1, x0 + x + 1);
        box.y0 = std::min(box.y0, y0 + y), box.y1 = std::max(box.y1, y0 + y + 1);
      }
    }
  }
  if (box.opaque_pixels == 0) box = PastedBox();
  return box;
}

std::vector<int64_t> VisiblePixels(const Canvas& canvas, int ids) {
  std::vector<int64_t> counts(static_cast<size_t>(std::max(0, ids)), 0);
  for (int16_t owner : canvas.owner) {
    if (owner >= 0 && owner < ids) ++counts[static_cast<size_t>(owner)];
  }
  return counts;
}

std::vector<uint8_t> FinishRgb(const Canvas& canvas, double brightness, double noise, uint64_t noise_seed) {
  EmojiRng rng(noise_seed);
  std::vector<uint8_t> rgb(canvas.rgb.size());
  const float scale = static_cast<float>(brightness);
  for (size_t i = 0; i < rgb.size(); ++i) {
    const float grain = noise > 0 ? static_cast<float>(rng.Uniform(-noise, noise)) : 0.0f;
    rgb[i] = static_cast<uint8_t>(std::clamp((canvas.rgb[i] + grain) * scale + 0.5f, 0.0f, 255.0f));
  }
  return rgb;
}

}  // namespace coco::data
