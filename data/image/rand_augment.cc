#include "data/image/rand_augment.h"

#include <algorithm>
#include <cmath>

namespace coco::data {
namespace {

constexpr double kPi = 3.14159265358979323846;

uint8_t Truncate(float value) { return static_cast<uint8_t>(std::clamp(value, 0.0f, 255.0f)); }

// torchvision's _blend: ratio * image + (1 - ratio) * other, clamped and truncated to uint8, in float32.
template <typename Other>
void Blend(float ratio, Other other, RgbImage& image) {
  for (size_t i = 0; i < image.pixels.size(); ++i) {
    image.pixels[i] = Truncate(ratio * image.pixels[i] + (1.0f - ratio) * other(i));
  }
}

// torchvision's rgb_to_grayscale for uint8: the weighted sum truncated to an integer.
std::vector<uint8_t> Grayscale(const RgbImage& image) {
  std::vector<uint8_t> gray(image.pixels.size() / 3);
  for (size_t p = 0; p < gray.size(); ++p) {
    const uint8_t* rgb = &image.pixels[3 * p];
    gray[p] = static_cast<uint8_t>(0.2989f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2]);
  }
  return gray;
}

// PIL's Image.transform(AFFINE, NEAREST): `m` maps an output pixel centre to source coordinates.
void AffineNearest(const double m[6], const std::array<uint8_t, 3>& fill, RgbImage& image) {
  std::vector<uint8_t> out(image.pixels.size());
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      const double u = m[0] * (x + 0.5) + m[1] * (y + 0.5) + m[2];
      const double v = m[3] * (x + 0.5) + m[4] * (y + 0.5) + m[5];
      const double sx = std::floor(u), sy = std::floor(v);
      const bool inside = sx >= 0 && sx < image.width && sy >= 0 && sy < image.height;
      const uint8_t* source =
          inside ? &image.pixels[(static_cast<size_t>(sy) * image.width + static_cast<size_t>(sx)) * 3] : fill.data();
      std::copy(source, source + 3, &out[(static_cast<size_t>(y) * image.width + x) * 3]);
    }
  }
  image.pixels = std::move(out);
}

// PIL's Image.rotate(degrees) without expand: about the centre, the matrix entries rounded to 15 decimals as PIL
// does (so 90 degrees is exact).
void Rotate(double degrees, const std::array<uint8_t, 3>& fill, RgbImage& image) {
  const double radians = degrees * kPi / 180.0;
  const auto round15 = [](double v) { return std::round(v * 1e15) / 1e15; };
  const double c = round15(std::cos(radians)), s = round15(std::sin(radians));
  const double cx = image.width / 2.0, cy = image.height / 2.0;
  const double m[6] = {c, -s, c * -cx - s * -cy + cx, s, c, s * -cx + c * -cy + cy};
  AffineNearest(m, fill, image);
}

// torchvision's adjust_sharpness degenerate image: the interior blurred with [[1, 1, 1], [1, 5, 1], [1, 1, 1]] / 13
// and rounded, the border kept.
std::vector<uint8_t> Blurred(const RgbImage& image) {
  std::vector<uint8_t> blurred = image.pixels;
  const float side = 1.0f / 13.0f, centre = 5.0f / 13.0f;
  const auto at = [&image](int x, int y, int c) { return (static_cast<size_t>(y) * image.width + x) * 3 + c; };
  for (int y = 1; y + 1 < image.height; ++y) {
    for (int x = 1; x + 1 < image.width; ++x) {
      for (int c = 0; c < 3; ++c) {
        float sum = 0;
        for (int dy = -1; dy <= 1; ++dy) {
          for (int dx = -1; dx <= 1; ++dx) {
            sum += (dx == 0 && dy == 0 ? centre : side) * image.pixels[at(x + dx, y + dy, c)];
          }
        }
        blurred[at(x, y, c)] = static_cast<uint8_t>(std::clamp(std::nearbyint(sum), 0.0f, 255.0f));
      }
    }
  }
  return blurred;
}

// torchvision's autocontrast per channel: [min, max] stretched to [0, 255], truncated; a flat channel is unchanged.
void AutoContrast(RgbImage& image) {
  for (int c = 0; c < 3; ++c) {
    uint8_t low = 255, high = 0;
    for (size_t i = c; i < image.pixels.size(); i += 3) {
      low = std::min(low, image.pixels[i]);
      high = std::max(high, image.pixels[i]);
    }
    if (low == high) continue;
    const float scale = 255.0f / static_cast<float>(high - low);
    for (size_t i = c; i < image.pixels.size(); i += 3) image.pixels[i] = Truncate((image.pixels[i] - low) * scale);
  }
}

// PIL's ImageOps.equalize (torchvision's _scale_channel) per channel: step = the histogram's count without its last
// occupied bin, / 255 (floored); a pixel of value v becomes floor((count below v + step / 2) / step). A step of 0
// (fewer than 255 pixels outside the last bin) leaves the channel unchanged.
void Equalize(RgbImage& image) {
  for (int c = 0; c < 3; ++c) {
    int64_t histogram[256] = {};
    for (size_t i = c; i < image.pixels.size(); i += 3) ++histogram[image.pixels[i]];
    int64_t total = 0, last = 0;
    for (int64_t count : histogram) {
      total += count;
      if (count > 0) last = count;
    }
    const int64_t step = (total - last) / 255;
    if (step == 0) continue;
    uint8_t lut[256];
    int64_t below = 0;
    for (int v = 0; v < 256; ++v) {
      lut[v] = static_cast<uint8_t>(std::min<int64_t>(255, (below + step / 2) / step));
      below += histogram[v];
    }
    for (size_t i = c; i < image.pixels.size(); i += 3) image.pixels[i] = lut[image.pixels[i]];
  }
}

}  // namespace

double RandAugmentValue(RandAugmentOp op, int magnitude, int width, int height) {
  const double fraction = static_cast<double>(magnitude) / kRandAugmentMaxMagnitude;  // torch.linspace(0, max, 31)
  switch (op) {
    case RandAugmentOp::kShearX:
    case RandAugmentOp::kShearY: return 0.3 * fraction;
    case RandAugmentOp::kTranslateX: return 150.0 / 331.0 * width * fraction;
    case RandAugmentOp::kTranslateY: return 150.0 / 331.0 * height * fraction;
    case RandAugmentOp::kRotate: return 30.0 * fraction;
    case RandAugmentOp::kBrightness:
    case RandAugmentOp::kColor:
    case RandAugmentOp::kContrast:
    case RandAugmentOp::kSharpness: return 0.9 * fraction;
    case RandAugmentOp::kPosterize: return 8.0 - std::round(magnitude / 7.5);
    case RandAugmentOp::kSolarize: return 255.0 * (1.0 - fraction);
    case RandAugmentOp::kIdentity:
    case RandAugmentOp::kAutoContrast:
    case RandAugmentOp::kEqualize: return 0.0;
  }
  return 0.0;
}

bool RandAugmentSigned(RandAugmentOp op) {
  switch (op) {
    case RandAugmentOp::kShearX:
    case RandAugmentOp::kShearY:
    case RandAugmentOp::kTranslateX:
    case RandAugmentOp::kTranslateY:
    case RandAugmentOp::kRotate:
    case RandAugmentOp::kBrightness:
    case RandAugmentOp::kColor:
    case RandAugmentOp::kContrast:
    case RandAugmentOp::kSharpness: return true;
    default: return false;
  }
}

void ApplyRandAugmentOp(RandAugmentOp op, double value, const std::array<uint8_t, 3>& fill, RgbImage& image) {
  const float factor = static_cast<float>(1.0 + value);
  switch (op) {
    case RandAugmentOp::kIdentity: return;
    case RandAugmentOp::kShearX: {
      const double m[6] = {1, value, 0, 0, 1, 0};
      return AffineNearest(m, fill, image);
    }
    case RandAugmentOp::kShearY: {
      const double m[6] = {1, 0, 0, value, 1, 0};
      return AffineNearest(m, fill, image);
    }
    case RandAugmentOp::kTranslateX:
    case RandAugmentOp::kTranslateY: {
      const double shift = std::trunc(value);  // torchvision's int(magnitude)
      const bool x = op == RandAugmentOp::kTranslateX;
      const double m[6] = {1, 0, x ? -shift : 0, 0, 1, x ? 0 : -shift};
      return AffineNearest(m, fill, image);
    }
    case RandAugmentOp::kRotate: return Rotate(value, fill, image);
    case RandAugmentOp::kBrightness:
      return Blend(
          factor, [](size_t) { return 0.0f; }, image);
    case RandAugmentOp::kColor: {
      const std::vector<uint8_t> gray = Grayscale(image);
      return Blend(
          factor, [&gray](size_t i) { return static_cast<float>(gray[i / 3]); }, image);
    }
    case RandAugmentOp::kContrast: {
      const std::vector<uint8_t> gray = Grayscale(image);
      double sum = 0;
      for (uint8_t v : gray) sum += v;
      const float mean = static_cast<float>(sum / std::max<size_t>(gray.size(), 1));
      return Blend(
          factor, [mean](size_t) { return mean; }, image);
    }
    case RandAugmentOp::kSharpness: {
      if (image.width <= 2 || image.height <= 2) return;  // torchvision: no interior to blur
      const std::vector<uint8_t> blurred = Blurred(image);
      return Blend(
          factor, [&blurred](size_t i) { return static_cast<float>(blurred[i]); }, image);
    }
    case RandAugmentOp::kPosterize: {
      const int bits = std::clamp(static_cast<int>(value), 0, 8);
      const uint8_t mask = static_cast<uint8_t>(0xFF << (8 - bits));
      for (uint8_t& v : image.pixels) v &= mask;
      return;
    }
    case RandAugmentOp::kSolarize:
      for (uint8_t& v : image.pixels) v = v >= value ? static_cast<uint8_t>(255 - v) : v;
      return;
    case RandAugmentOp::kAutoContrast: return AutoContrast(image);
    case RandAugmentOp::kEqualize: return Equalize(image);
  }
}

std::vector<RandAugmentStep> RandAugment(const RandAugmentOptions& options, std::mt19937_64& rng, RgbImage& image) {
  std::vector<RandAugmentStep> steps;
  for (int i = 0; i < options.num_ops; ++i) {
    // Our own index draws (not std::uniform_int_distribution), so the choice does not depend on the library.
    RandAugmentStep step;
    step.op = static_cast<RandAugmentOp>(rng() % kNumRandAugmentOps);
    step.value = RandAugmentValue(step.op, options.magnitude, image.width, image.height);
    if (RandAugmentSigned(step.op) && rng() % 2 == 1) step.value = -step.value;
    ApplyRandAugmentOp(step.op, step.value, options.fill, image);
    steps.push_back(step);
  }
  return steps;
}

}  // namespace coco::data
