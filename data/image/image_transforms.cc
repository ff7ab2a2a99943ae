#include "data/image/image_transforms.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace coco::data {
namespace {

// For each output pixel along one axis: the first source index and normalised triangle-filter weights.
struct AxisWeights {
  std::vector<int> first;
  std::vector<int> count;
  std::vector<float> weights;  // output x max_taps
  int max_taps = 0;
};

AxisWeights ComputeAxisWeights(double box0, double box1, int source_size, int output_size) {
  const double scale = (box1 - box0) / output_size;
  const double filter_scale = std::max(scale, 1.0);  // widen the filter when shrinking: this is the antialiasing
  const double support = 1.0 * filter_scale;         // the triangle filter has radius 1
  AxisWeights axis;
  axis.max_taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  axis.first.resize(output_size);
  axis.count.resize(output_size);
  axis.weights.assign(static_cast<size_t>(output_size) * axis.max_taps, 0.0f);
  for (int i = 0; i < output_size; ++i) {
    const double center = box0 + (i + 0.5) * scale;
    const int lo = std::max(0, static_cast<int>(std::floor(center - support + 0.5)));
    const int hi = std::min(source_size, static_cast<int>(std::floor(center + support + 0.5)));
    double total = 0;
    int taps = 0;
    float* w = &axis.weights[static_cast<size_t>(i) * axis.max_taps];
    for (int j = lo; j < hi && taps < axis.max_taps; ++j, ++taps) {
      const double distance = std::abs((j + 0.5 - center) / filter_scale);
      w[taps] = static_cast<float>(std::max(0.0, 1.0 - distance));
      total += w[taps];
    }
    if (taps == 0 || total <= 0) {  // a box entirely outside the image: take the nearest pixel
      axis.first[i] = std::clamp(static_cast<int>(center), 0, source_size - 1);
      axis.count[i] = 1;
      w[0] = 1.0f;
      continue;
    }
    for (int t = 0; t < taps; ++t) w[t] = static_cast<float>(w[t] / total);
    axis.first[i] = lo;
    axis.count[i] = taps;
  }
  return axis;
}

}  // namespace

CropBox ChooseCrop(int width, int height, const TransformOptions& options, std::mt19937_64& rng) {
  CropBox box;
  if (!options.train && options.resize_mode == ResizeMode::kSquash) {
    return {0, 0, static_cast<double>(width), static_cast<double>(height), false};
  }
  if (!options.train) {
    const double resized_short = options.output_size / options.center_crop_fraction;
    const double scale = std::min(width, height) / resized_short;  // source pixels per resized pixel
    const double side = options.output_size * scale;
    box.x0 = (width - side) / 2;
    box.y0 = (height - side) / 2;
    box.x1 = box.x0 + side;
    box.y1 = box.y0 + side;
    return box;
  }
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  if (options.resize_mode == ResizeMode::kSquash) {
    box = {0, 0, static_cast<double>(width), static_cast<double>(height)};
    box.flip = uniform(rng) < options.flip_probability;
    return box;
  }
  const double area = static_cast<double>(width) * height;
  const double log_min = std::log(options.min_aspect_ratio), log_max = std::log(options.max_aspect_ratio);
  bool found = false;
  for (int attempt = 0; attempt < 10 && !found; ++attempt) {
    const double target =
        area * (options.min_crop_area + uniform(rng) * (options.max_crop_area - options.min_crop_area));
    const double aspect = std::exp(log_min + uniform(rng) * (log_max - log_min));
    const int w = static_cast<int>(std::lround(std::sqrt(target * aspect)));
    const int h = static_cast<int>(std::lround(std::sqrt(target / aspect)));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      const int x = std::uniform_int_distribution<int>(0, width - w)(rng);
      const int y = std::uniform_int_distribution<int>(0, height - h)(rng);
      box = {static_cast<double>(x), static_cast<double>(y), static_cast<double>(x + w), static_cast<double>(y + h)};
      found = true;
    }
  }
  if (!found) {  // torchvision's fallback: the whole image, clamped to the aspect-ratio range, centered
    const double ratio = static_cast<double>(width) / height;
    double w = width, h = height;
    if (ratio < options.min_aspect_ratio) {
      h = std::lround(w / options.min_aspect_ratio);
    } else if (ratio > options.max_aspect_ratio) {
      w = std::lround(h * options.max_aspect_ratio);
    }
    box = {(width - w) / 2, (height - h) / 2, (width - w) / 2 + w, (height - h) / 2 + h};
  }
  box.flip = uniform(rng) < options.flip_probability;
  return box;
}

EraseBox RandomErase(const ErasingOptions& options, int size, bool channels_last, std::mt19937_64& rng, float* out) {
  if (!(options.probability > 0)) return {};
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  if (uniform(rng) >= options.probability) return {};
  const double area = static_cast<double>(size) * size;
  const double log_min = std::log(options.ratio_min), log_max = std::log(options.ratio_max);
  EraseBox box;
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * (options.area_min + uniform(rng) * (options.area_max - options.area_min));
    const double ratio = std::exp(log_min + uniform(rng) * (log_max - log_min));
    const int h = static_cast<int>(std::lround(std::sqrt(target * ratio)));
    const int w = static_cast<int>(std::lround(std::sqrt(target / ratio)));
    if (!(h < size && w < size)) continue;  // torchvision requires the box strictly smaller than the image
    box.y = std::uniform_int_distribution<int>(0, size - h)(rng);
    box.x = std::uniform_int_distribution<int>(0, size - w)(rng);
    box.w = w;
    box.h = h;
    break;
  }
  if (box.w == 0 || box.h == 0) return {};
  const size_t plane = static_cast<size_t>(size) * size;
  const auto at = [&](int c, int y, int x) -> float& {
    return channels_last ? out[(static_cast<size_t>(y) * size + x) * 3 + c]
                         : out[c * plane + static_cast<size_t>(y) * size + x];
  };
  float mean[3] = {0, 0, 0};
  if (options.fill == ErasingFill::kMean) {
    double sum[3] = {0, 0, 0};
    for (size_t i = 0; i < 3 * plane; ++i) sum[channels_last ? i % 3 : i / plane] += out[i];
    for (int c = 0; c < 3; ++c) mean[c] = static_cast<float>(sum[c] / static_cast<double>(plane));
  }
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int c = 0; c < 3; ++c) {  // channel-major, as torchvision draws its [C, h, w] noise tensor
    for (int y = box.y; y < box.y + box.h; ++y) {
      for (int x = box.x; x < box.x + box.w; ++x) {
        switch (options.fill) {
          case ErasingFill::kZero: at(c, y, x) = 0.0f; break;
          case ErasingFill::kRandom: at(c, y, x) = normal(rng); break;
          case ErasingFill::kMean: at(c, y, x) = mean[c]; break;
        }
      }
    }
  }
  return box;
}

void MinimumDecodeSize(int width, int height, const CropBox& box, int output_size, int* min_width, int* min_height) {
  // The decoded image must keep at least output_size pixels across the box in each direction.
  const double box_width = std::max(box.x1 - box.x0, 1e-6), box_height = std::max(box.y1 - box.y0, 1e-6);
  *min_width = static_cast<int>(std::ceil(width * output_size / box_width));
  *min_height = static_cast<int>(std::ceil(height * output_size / box_height));
}

void ResampleNormalize(const RgbImage& image, int source_width, int source_height, const CropBox& box,
                       const TransformOptions& options, bool channels_last, float* out) {
  // The whole image, possibly DCT-downscaled.
  ImagePlacement placement;
  placement.scale_x = static_cast<double>(image.width) / source_width;
  placement.scale_y = static_cast<double>(image.height) / source_height;
  ResampleNormalize(image, placement, box, options, channels_last, out);
}

namespace {

// Per channel c, the affine map x * a[c] + b[c] taking a [0, 255] value to the normalised one:
// (x / 255 - mean) / std.
void NormalizationCoefficients(const TransformOptions& options, float a[3], float b[3]) {
  for (int c = 0; c < 3; ++c) {
    a[c] = 1.0f / (255.0f * options.std[c]);
    b[c] = -options.mean[c] / options.std[c];
  }
}

// The resampler behind ResampleNormalize and ResampleToRgb: writes value * a[c] + b[c] for each resampled value.
void Resample(const RgbImage& image, const ImagePlacement& placement, const CropBox& box, int size, const float a[3],
              const float b[3], bool channels_last, float* out) {
  // Map the box from file coordinates into the decoded image.
  const double sx = placement.scale_x, sy = placement.scale_y;
  const AxisWeights xs =
      ComputeAxisWeights(box.x0 * sx - placement.offset_x, box.x1 * sx - placement.offset_x, image.width, size);
  const AxisWeights ys =
      ComputeAxisWeights(box.y0 * sy - placement.offset_y, box.y1 * sy - placement.offset_y, image.height, size);

  // Horizontal pass over only the source rows the vertical filter will read.
  int row_lo = image.height, row_hi = 0;
  for (int i = 0; i < size; ++i) {
    row_lo = std::min(row_lo, ys.first[i]);
    row_hi = std::max(row_hi, ys.first[i] + ys.count[i]);
  }
  const int rows = row_hi - row_lo;
  std::vector<float> horizontal(static_cast<size_t>(rows) * size * 3);
  for (int r = 0; r < rows; ++r) {
    const uint8_t* src = &image.pixels[static_cast<size_t>(row_lo + r) * image.width * 3];
    float* dst = &horizontal[static_cast<size_t>(r) * size * 3];
    for (int x = 0; x < size; ++x) {
      const float* w = &xs.weights[static_cast<size_t>(x) * xs.max_taps];
      const uint8_t* p = src + static_cast<size_t>(xs.first[x]) * 3;
      float r0 = 0, g0 = 0, b0 = 0;
      for (int t = 0; t < xs.count[x]; ++t) {
        r0 += w[t] * p[3 * t];
        g0 += w[t] * p[3 * t + 1];
        b0 += w[t] * p[3 * t + 2];
      }
      dst[3 * x] = r0;
      dst[3 * x + 1] = g0;
      dst[3 * x + 2] = b0;
    }
  }

  // Vertical pass, fused with the flip and the normalisation (x / 255 - mean) / std = x * a + b.
  const size_t plane = static_cast<size_t>(size) * size;
  std::vector<float> line(static_cast<size_t>(size) * 3);
  for (int y = 0; y < size; ++y) {
    std::fill(line.begin(), line.end(), 0.0f);
    const float* w = &ys.weights[static_cast<size_t>(y) * ys.max_taps];
    for (int t = 0; t < ys.count[y]; ++t) {
      const float* src = &horizontal[static_cast<size_t>(ys.first[y] + t - row_lo) * size * 3];
      for (int k = 0; k < size * 3; ++k) line[k] += w[t] * src[k];
    }
    for (int x = 0; x < size; ++x) {
      const int sx_out = box.flip ? size - 1 - x : x;
      for (int c = 0; c < 3; ++c) {
        const float value = line[3 * static_cast<size_t>(sx_out) + c] * a[c] + b[c];
        if (channels_last) {
          out[(static_cast<size_t>(y) * size + x) * 3 + c] = value;
        } else {
          out[c * plane + static_cast<size_t>(y) * size + x] = value;
        }
      }
    }
  }
}

}  // namespace

void ResampleNormalize(const RgbImage& image, const ImagePlacement& placement, const CropBox& box,
                       const TransformOptions& options, bool channels_last, float* out) {
  float a[3], b[3];
  NormalizationCoefficients(options, a, b);
  Resample(image, placement, box, options.output_size, a, b, channels_last, out);
}

RgbImage ResampleToRgb(const RgbImage& image, const ImagePlacement& placement, const CropBox& box, int output_size) {
  const float a[3] = {1, 1, 1}, b[3] = {0, 0, 0};
  std::vector<float> values(static_cast<size_t>(output_size) * output_size * 3);
  Resample(image, placement, box, output_size, a, b, /*channels_last=*/true, values.data());
  RgbImage out{output_size, output_size, std::vector<uint8_t>(values.size())};
  for (size_t i = 0; i < values.size(); ++i) {
    out.pixels[i] = static_cast<uint8_t>(std::clamp(std::lround(values[i]), 0L, 255L));
  }
  return out;
}

void Normalize(const RgbImage& image, const TransformOptions& options, bool channels_last, float* out) {
  float a[3], b[3];
  NormalizationCoefficients(options, a, b);
  const size_t plane = static_cast<size_t>(image.width) * image.height;
  for (size_t p = 0; p < plane; ++p) {
    for (int c = 0; c < 3; ++c) {
      const float value = image.pixels[3 * p + c] * a[c] + b[c];
      out[channels_last ? 3 * p + c : c * plane + p] = value;
    }
  }
}

}  // namespace coco::data
