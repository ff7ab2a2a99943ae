#include "data/inspect/image_checks.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <random>
#include <thread>

#include "data/image/image_transforms.h"

namespace coco::data {
namespace {

constexpr double kMean[3] = {0.485, 0.456, 0.406};
constexpr double kStd[3] = {0.229, 0.224, 0.225};
constexpr double kLuma[3] = {0.299, 0.587, 0.114};
constexpr int kBrightnessSide = 64;  // decode at least this many pixels per side

}  // namespace

double NormalizedLuminance(const RgbImage& image) {
  double sums[3] = {0, 0, 0};
  const size_t pixels = static_cast<size_t>(image.width) * image.height;
  for (size_t p = 0; p < pixels; ++p) {
    for (int c = 0; c < 3; ++c) sums[c] += image.pixels[3 * p + c];
  }
  double luminance = 0;
  for (int c = 0; c < 3; ++c) {
    const double mean_value = pixels == 0 ? 0 : sums[c] / pixels / 255.0;
    luminance += kLuma[c] * (mean_value - kMean[c]) / kStd[c];  // linear, so the mean commutes with normalisation
  }
  return luminance;
}

ImageCheckResult CheckImages(const CocoDataset& dataset, const std::string& image_dir,
                             const ImageCheckOptions& options) {
  std::vector<ImageBrightness> brightness(dataset.images.size());
  std::vector<std::string> errors(dataset.images.size());
  std::atomic<size_t> next{0};
  const auto work = [&] {
    JpegDecoder decoder;
    for (size_t i = next++; i < dataset.images.size(); i = next++) {
      const std::string path = image_dir + "/" + dataset.images[i].file_name;
      brightness[i].file_name = dataset.images[i].file_name;
      auto bytes = ReadFileBytes(path);
      if (!bytes.ok()) {
        errors[i] = dataset.images[i].file_name + ": " + std::string(bytes.status().message());
        continue;
      }
      auto image = decoder.Decode(*bytes, path, kBrightnessSide, kBrightnessSide);
      if (!image.ok()) {
        errors[i] = dataset.images[i].file_name + ": " + std::string(image.status().message());
        continue;
      }
      brightness[i].normalized_luminance = NormalizedLuminance(*image);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, options.threads); ++t) threads.emplace_back(work);
  for (std::thread& thread : threads) thread.join();

  ImageCheckResult result;
  std::vector<ImageBrightness> readable;
  for (size_t i = 0; i < brightness.size(); ++i) {
    if (!errors[i].empty()) {
      result.unreadable.push_back(errors[i]);
      continue;
    }
    ++result.checked;
    if (brightness[i].normalized_luminance < options.dark_threshold) ++result.dark;
    readable.push_back(brightness[i]);
  }
  std::stable_sort(readable.begin(), readable.end(), [](const ImageBrightness& a, const ImageBrightness& b) {
    return a.normalized_luminance < b.normalized_luminance;
  });
  readable.resize(std::min(readable.size(), static_cast<size_t>(std::max(0, options.darkest))));
  result.darkest = std::move(readable);
  return result;
}

absl::StatusOr<RgbImage> MakeThumbnail(const std::string& path, int side, JpegDecoder& decoder) {
  auto bytes = ReadFileBytes(path);
  if (!bytes.ok()) return bytes.status();
  auto header = decoder.ReadHeader(*bytes, path);
  if (!header.ok()) return header.status();
  const double square = std::min(header->width, header->height);
  CropBox box{(header->width - square) / 2, (header->height - square) / 2, 0, 0, false};
  box.x1 = box.x0 + square;
  box.y1 = box.y0 + square;
  int min_width = 0, min_height = 0;
  MinimumDecodeSize(header->width, header->height, box, side, &min_width, &min_height);
  auto image = decoder.Decode(*bytes, path, min_width, min_height);
  if (!image.ok()) return image.status();
  // Resample to raw 0-255 values: mean 0 and std 1/255 make the normalisation the identity.
  TransformOptions raw;
  raw.output_size = side;
  raw.mean = {0, 0, 0};
  raw.std = {1.0f / 255, 1.0f / 255, 1.0f / 255};
  std::vector<float> values(static_cast<size_t>(side) * side * 3);
  ResampleNormalize(*image, header->width, header->height, box, raw, /*channels_last=*/true, values.data());
  RgbImage thumbnail{side, side, std::vector<uint8_t>(values.size())};
  for (size_t i = 0; i < values.size(); ++i) {
    thumbnail.pixels[i] = static_cast<uint8_t>(std::clamp(std::lround(values[i]), 0L, 255L));
  }
  return thumbnail;
}

}  // namespace coco::data
