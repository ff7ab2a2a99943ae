// JPEG decoding with libjpeg-turbo's TurboJPEG API into 8-bit RGB, using DCT-domain downscaling (1/2, 1/4, 1/8...)
// when the caller needs far fewer pixels than the file has.
#ifndef DATA_IMAGE_JPEG_DECODER_H_
#define DATA_IMAGE_JPEG_DECODER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace coco::data {

struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // height x width x 3, row-major
};

struct JpegHeader {
  int width = 0;
  int height = 0;
};

// Decodes JPEGs; one per thread (it owns a TurboJPEG handle).
class JpegDecoder {
 public:
  JpegDecoder();
  ~JpegDecoder();
  JpegDecoder(const JpegDecoder&) = delete;
  JpegDecoder& operator=(const JpegDecoder&) = delete;

  // Size of the image in the file. `name` is used in error messages.
  absl::StatusOr<JpegHeader> ReadHeader(const std::vector<uint8_t>& jpeg, const std::string& name);

  // Decodes at the smallest DCT scale whose output is still at least min_width x min_height (0 = full size).
  // Grayscale files are expanded to RGB; CMYK/YCCK files (Adobe's inverted CMYK convention, as Photoshop writes
  // them) are converted with R = C * K / 255, G = M * K / 255, B = Y * K / 255. Truncated or corrupt data is an
  // error (libjpeg's warnings are treated as errors), as is data that is not a JPEG.
  absl::StatusOr<RgbImage> Decode(const std::vector<uint8_t>& jpeg, const std::string& name, int min_width = 0,
                                  int min_height = 0);

 private:
  // Replaces the TurboJPEG handle after an error, then returns `error`: libjpeg-turbo 2.1 leaves a handle that failed
  // on some corrupt headers ("SOS before SOF", "Bogus DQT index") unable to read the next, valid file (found by
  // jpeg_fuzzer; a loader thread would then have refused every later image).
  absl::Status Failed(absl::Status error);

  void* handle_;
};

// The most pixels (width x height as the header declares them) an image may have: larger files are refused before
// anything is allocated or decoded, so a forged header cannot exhaust memory. Process-wide, set once at start-up
// from data.max_image_pixels; the default is 150 times COCO's largest image (640 x 640).
inline constexpr int64_t kDefaultMaxImagePixels = 64'000'000;
void SetMaxImagePixels(int64_t pixels);
int64_t MaxImagePixels();
// OK, or an error naming `name`, its declared size and the limit.
absl::Status CheckImagePixels(int64_t width, int64_t height, const std::string& name);

// Reads a whole file; the error names the path.
absl::StatusOr<std::vector<uint8_t>> ReadFileBytes(const std::string& path);

}  // namespace coco::data

#endif  // DATA_IMAGE_JPEG_DECODER_H_
