// Test helper: encodes pixels as JPEG with TurboJPEG, so tests can make exactly the files they need.
#ifndef DATA_IMAGE_JPEG_TEST_UTIL_H_
#define DATA_IMAGE_JPEG_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

namespace coco::data {

enum class TestJpegKind { kRgb, kGray, kCmyk, kProgressive };

// `pixels` holds width x height x channels bytes: 3 for kRgb/kProgressive, 1 for kGray, 4 (inverted CMYK) for kCmyk.
std::vector<uint8_t> EncodeTestJpeg(const std::vector<uint8_t>& pixels, int width, int height, TestJpegKind kind,
                                    int quality = 95);

// A width x height RGB image with a smooth gradient (good for lossy comparisons).
std::vector<uint8_t> GradientRgb(int width, int height);

// `jpeg` (a baseline file) with its frame header rewritten to declare width x height; the scan data is unchanged.
std::vector<uint8_t> WithDeclaredSize(std::vector<uint8_t> jpeg, int width, int height);

void WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes);

}  // namespace coco::data

#endif  // DATA_IMAGE_JPEG_TEST_UTIL_H_
