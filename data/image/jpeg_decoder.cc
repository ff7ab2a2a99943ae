#include "data/image/jpeg_decoder.h"

#include <turbojpeg.h>

#include <atomic>
#include <fstream>
#include <iterator>

namespace coco::data {
namespace {

std::atomic<int64_t> max_image_pixels{kDefaultMaxImagePixels};

absl::Status TurboError(void* handle, const std::string& name, const char* what) {
  return absl::InvalidArgumentError("cannot " + std::string(what) + " JPEG '" + name + "': " + tjGetErrorStr2(handle));
}

}  // namespace

void SetMaxImagePixels(int64_t pixels) { max_image_pixels = pixels; }

int64_t MaxImagePixels() { return max_image_pixels; }

absl::Status CheckImagePixels(int64_t width, int64_t height, const std::string& name) {
  // libjpeg-turbo 2.1 reads a JPEG of tables only (no frame header) as a success of 0 x 0 pixels.
  if (width < 1 || height < 1) {
    return absl::InvalidArgumentError("image '" + name + "' declares " + std::to_string(width) + " x " +
                                      std::to_string(height) + " pixels: no image (expected at least 1 x 1)");
  }
  if (width * height <= max_image_pixels) return absl::OkStatus();
  return absl::ResourceExhaustedError("image '" + name + "' declares " + std::to_string(width) + " x " +
                                      std::to_string(height) + " = " + std::to_string(width * height) +
                                      " pixels, more than the limit of " + std::to_string(max_image_pixels.load()) +
                                      " (data.max_image_pixels)");
}

JpegDecoder::JpegDecoder() : handle_(tjInitDecompress()) {}

JpegDecoder::~JpegDecoder() {
  if (handle_ != nullptr) tjDestroy(handle_);
}

absl::Status JpegDecoder::Failed(absl::Status error) {
  if (handle_ != nullptr) tjDestroy(handle_);
  handle_ = tjInitDecompress();
  return error;
}

absl::StatusOr<JpegHeader> JpegDecoder::ReadHeader(const std::vector<uint8_t>& jpeg, const std::string& name) {
  if (handle_ == nullptr) return absl::InternalError("TurboJPEG decompressor could not be created");
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(handle_, jpeg.data(), jpeg.size(), &width, &height, &subsampling, &colorspace) != 0) {
    return Failed(TurboError(handle_, name, "read the header of"));
  }
  if (absl::Status size = CheckImagePixels(width, height, name); !size.ok()) return size;
  return JpegHeader{width, height};
}

absl::StatusOr<RgbImage> JpegDecoder::Decode(const std::vector<uint8_t>& jpeg, const std::string& name, int min_width,
                                             int min_height) {
  if (handle_ == nullptr) return absl::InternalError("TurboJPEG decompressor could not be created");
  if (jpeg.empty()) return absl::InvalidArgumentError("JPEG '" + name + "' is empty");
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(handle_, jpeg.data(), jpeg.size(), &width, &height, &subsampling, &colorspace) != 0) {
    return Failed(TurboError(handle_, name, "read the header of"));
  }
  if (absl::Status size = CheckImagePixels(width, height, name); !size.ok()) return size;
  // The scaling factors come in no documented order: pick the smallest output that is still large enough.
  int factor_count = 0;
  const tjscalingfactor* factors = tjGetScalingFactors(&factor_count);
  int out_width = width, out_height = height;
  const bool full_size = min_width <= 0 && min_height <= 0;
  for (int i = 0; i < factor_count && !full_size; ++i) {
    if (factors[i].num > factors[i].denom) continue;  // never upscale while decoding
    // libjpeg-turbo has SIMD inverse DCTs only for the 1/2, 1/4 and 1/8 reductions; the other n/8 factors run
    // scalar code slower than decoding at the next power of two and resampling.
    if (factors[i].denom % factors[i].num != 0) continue;
    const int w = TJSCALED(width, factors[i]);
    const int h = TJSCALED(height, factors[i]);
    if (w >= min_width && h >= min_height &&
        static_cast<int64_t>(w) * h < static_cast<int64_t>(out_width) * out_height) {
      out_width = w;
      out_height = h;
    }
  }
  RgbImage image;
  image.width = out_width;
  image.height = out_height;
  const int flags = TJFLAG_STOPONWARNING;
  const bool cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
  if (!cmyk) {
    image.pixels.resize(static_cast<size_t>(out_width) * out_height * 3);
    if (tjDecompress2(handle_, jpeg.data(), jpeg.size(), image.pixels.data(), out_width, 0, out_height, TJPF_RGB,
                      flags) != 0) {
      return Failed(TurboError(handle_, name, "decode"));
    }
    return image;
  }
  std::vector<uint8_t> inks(static_cast<size_t>(out_width) * out_height * 4);
  if (tjDecompress2(handle_, jpeg.data(), jpeg.size(), inks.data(), out_width, 0, out_height, TJPF_CMYK, flags) != 0) {
    return Failed(TurboError(handle_, name, "decode"));
  }
  image.pixels.resize(static_cast<size_t>(out_width) * out_height * 3);
  for (size_t p = 0, n = static_cast<size_t>(out_width) * out_height; p < n; ++p) {
    const unsigned k = inks[4 * p + 3];
    for (int c = 0; c < 3; ++c) image.pixels[3 * p + c] = static_cast<uint8_t>((inks[4 * p + c] * k + 127) / 255);
  }
  return image;
}

absl::StatusOr<std::vector<uint8_t>> ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot open image '" + path + "'");
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  std::vector<uint8_t> bytes(static_cast<size_t>(size < 0 ? 0 : size));
  if (!bytes.empty() && !in.read(reinterpret_cast<char*>(bytes.data()), size)) {
    return absl::DataLossError("cannot read image '" + path + "'");
  }
  return bytes;
}

}  // namespace coco::data
