#include "data/image/jpeg_test_util.h"

#include <turbojpeg.h>

#include <cstdio>
#include <cstdlib>
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
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<uint8_t> WithDeclaredSize(std::vector<uint8_t> jpeg, int width, int height) {
  for (size_t i = 0; i + 8 < jpeg.size(); ++i) {
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) {  // SOF0: FF C0, length (2), precision (1), height (2), width (2)
      jpeg[i + 5] = static_cast<uint8_t>(height >> 8), jpeg[i + 6] = static_cast<uint8_t>(height & 0xFF);
      jpeg[i + 7] = static_cast<uint8_t>(width >> 8), jpeg[i + 8] = static_cast<uint8_t>(width & 0xFF);
      return jpeg;
    }
  }
  std::fprintf(stderr, "WithDeclaredSize: no SOF0 marker\n");
  std::abort();
}

}  // namespace coco::data
