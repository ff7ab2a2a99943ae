#include "data/image/jpeg_test_util.h"

#include <turbojpeg.h>

#include <fstream>
#include <stdexcept>

namespace coco::data {

std::vector<uint8_t> EncodeTestJpeg(const std::vector<uint8_t>& pixels, int width, int height, TestJpegKind kind,
                                    int quality) {
  tjhandle handle = tjInitCompress();
  int format = TJPF_RGB, subsampling = TJSAMP_420, flags = 0;
  if (kind == TestJpegKind::kGray) {
    format = TJPF_GRAY;
    subsampling = TJSAMP_GRAY;
  } else if (kind == TestJpegKind::kCmyk) {
    format = TJPF_CMYK;
    subsampling = TJSAMP_444;
  } else if (kind == TestJpegKind::kProgressive) {
    flags = TJFLAG_PROGRESSIVE;
  }
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  if (tjCompress2(handle, pixels.data(), width, 0, height, format, &buffer, &size, subsampling, quality, flags) != 0) {
    const std::string error = tjGetErrorStr2(handle);
    tjDestroy(handle);
    throw std::runtime_error("tjCompress2 failed: " + error);
  }
  std::vector<uint8_t> jpeg(buffer, buffer + size);
  tjFree(buffer);
  tjDestroy(handle);
  return jpeg;
}

std::vector<uint8_t> GradientRgb(int width, int height) {
  std::vector<uint8_t> pixels(static_cast<size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* p = &pixels[(static_cast<size_t>(y) * width + x) * 3];
      p[0] = static_cast<uint8_t>(255 * x / (width - 1));
      p[1] = static_cast<uint8_t>(255 * y / (height - 1));
      p[2] = 128;
    }
  }
  return pixels;
}

void WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                               static_cast<std::streamsize>(bytes.size()));
}

}  // namespace coco::data
