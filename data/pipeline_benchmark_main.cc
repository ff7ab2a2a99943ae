// Benchmark: images/s of decode + RandomResizedCrop + flip + normalise (our loader) next to PIL + torchvision
// transforms through a DataLoader with the same number of workers, on the same JPEG files, in one invocation.
//   bazel run //data:pipeline_benchmark -- [--images_dir=DIR] [--workers=2] [--num_images=512]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <turbojpeg.h>
#include "absl/status/status.h"
#include "data/image/jpeg_decoder.h"
#include "data/image/jpeg_region_decoder.h"
#include "data/image_loader.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "tools/cc/command.h"
#include "tools/cc/main_runner.h"
#include "tools/cc/status_macros.h"

DEFINE_string(images_dir, "",
              "Directory of JPEGs to cycle through. Default: ../shared/coco_samples/icevision/images beside the "
              "workspace (real 640x480-ish COCO images) if present, else 640x480 synthetic JPEGs made here.");
DEFINE_int32(workers, 2, "Decode threads for our loader and DataLoader workers for the reference.");
DEFINE_int32(batch_size, 32, "Batch size for both.");
DEFINE_int32(output_size, 224, "Output side in pixels.");
DEFINE_int32(num_images, 512, "Images per epoch (the files are cycled to reach this count).");
DEFINE_int32(epochs, 2, "Timed epochs for each side (after one warm-up epoch).");
DEFINE_bool(breakdown, true, "Also time each stage alone on one thread (full decode, window decode, resample).");
DEFINE_int32(rand_augment_ops, 0,
             "RandAugment on both sides (ours: data.augmentation.rand_augment; the reference: torchvision's "
             "RandAugment on the PIL image after the crop and flip): operations per image, 0 off");
DEFINE_int32(rand_augment_magnitude, 9, "RandAugment's magnitude bin, 0-30, with --rand_augment_ops");
DEFINE_string(python, "/usr/bin/python3", "Python with Debian's torch and torchvision; empty skips the reference.");

namespace {

namespace fs = std::filesystem;

// 640x480 JPEGs with smooth colour fields and noise, roughly as costly to decode as photos.
absl::StatusOr<std::vector<std::string>> MakeSyntheticJpegs(const std::string& dir, int count) {
  fs::create_directories(dir);
  tjhandle handle = tjInitCompress();
  std::mt19937 rng(3);
  std::vector<std::string> paths;
  const int width = 640, height = 480;
  std::vector<uint8_t> pixels(static_cast<size_t>(width) * height * 3);
  for (int i = 0; i < count; ++i) {
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        uint8_t* p = &pixels[(static_cast<size_t>(y) * width + x) * 3];
        p[0] = static_cast<uint8_t>((x * (i + 1) / 3 + rng() % 32) & 255);
        p[1] = static_cast<uint8_t>((y + rng() % 32) & 255);
        p[2] = static_cast<uint8_t>(((x + y) / 4 + i * 20 + rng() % 32) & 255);
      }
    }
    unsigned char* buffer = nullptr;
    unsigned long size = 0;
    if (tjCompress2(handle, pixels.data(), width, 0, height, TJPF_RGB, &buffer, &size, TJSAMP_420, 90, 0) != 0) {
      tjDestroy(handle);
      return absl::InternalError("tjCompress2 failed");
    }
    const std::string path = dir + "/synthetic_" + std::to_string(i) + ".jpg";
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(buffer), static_cast<std::streamsize>(size));
    tjFree(buffer);
    paths.push_back(path);
  }
  tjDestroy(handle);
  return paths;
}

absl::StatusOr<std::vector<std::string>> SourceImages(std::string* description) {
  std::string dir = FLAGS_images_dir;
  if (dir.empty()) {
    const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
    const std::string shared = std::string(workspace ? workspace : ".") + "/../shared/coco_samples/icevision/images";
    if (fs::is_directory(shared)) dir = shared;
  }
  if (dir.empty()) {
    *description = "8 synthetic 640x480 JPEGs (../shared/coco_samples is absent)";
    return MakeSyntheticJpegs(fs::temp_directory_path().string() + "/pipeline_benchmark_jpegs", 8);
  }
  std::vector<std::string> paths;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".jpg" || entry.path().extension() == ".jpeg") paths.push_back(entry.path());
  }
  if (paths.empty()) return absl::NotFoundError("no .jpg files in --images_dir '" + dir + "'");
  std::sort(paths.begin(), paths.end());
  *description = std::to_string(paths.size()) + " JPEGs from " + dir;
  return paths;
}

absl::StatusOr<double> OurImagesPerSecond(const std::vector<std::string>& files) {
  std::vector<coco::data::LoaderSample> samples;
  for (size_t i = 0; i < files.size(); ++i) samples.push_back({files[i], static_cast<int64_t>(i), {0}});
  coco::data::LoaderOptions options;
  options.batch_size = FLAGS_batch_size;
  options.num_workers = FLAGS_workers;
  options.transform.output_size = FLAGS_output_size;
  options.transform.rand_augment.num_ops = FLAGS_rand_augment_ops;
  options.transform.rand_augment.magnitude = FLAGS_rand_augment_magnitude;
  ASSIGN_OR_RETURN(std::unique_ptr<coco::data::ImageLoader> loader,
                   coco::data::ImageLoader::Create(samples, 1, options));
  int64_t images = 0;
  double seconds = 0;
  for (int epoch = 0; epoch <= FLAGS_epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    loader->StartEpoch(epoch);
    int64_t epoch_images = 0;
    while (true) {
      ASSIGN_OR_RETURN(std::optional<coco::data::Batch> batch, loader->Next());
      if (!batch) break;
      epoch_images += batch->images.size(0);
    }
    if (epoch == 0) continue;  // warm-up
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    images += epoch_images;
  }
  return images / seconds;
}

absl::StatusOr<double> ReferenceImagesPerSecond(const std::vector<std::string>& files) {
  const std::string list = fs::temp_directory_path().string() + "/pipeline_benchmark_files.txt";
  {
    std::ofstream out(list);
    for (const std::string& file : files) out << file << "\n";
  }
  const std::string command =
      FLAGS_python + " data/benchmarks/pipeline_reference.py --workers " + std::to_string(FLAGS_workers) + " --batch " +
      std::to_string(FLAGS_batch_size) + " --size " + std::to_string(FLAGS_output_size) + " --epochs " +
      std::to_string(FLAGS_epochs) + " --rand_augment_ops " + std::to_string(FLAGS_rand_augment_ops) +
      " --rand_augment_magnitude " + std::to_string(FLAGS_rand_augment_magnitude) + " " + list;
  ASSIGN_OR_RETURN(const std::string output, coco::RunCommand(command));
  const size_t at = output.rfind("images_per_second ");
  if (at == std::string::npos) {
    return absl::InternalError("the Python reference failed (" + command + "):\n" + output);
  }
  return std::stod(output.substr(at + 18));
}

// Milliseconds per image for each stage on one thread, over the same files and RandomResizedCrop boxes.
absl::Status PrintBreakdown(const std::vector<std::string>& files) {
  using Clock = std::chrono::steady_clock;
  std::vector<std::vector<uint8_t>> contents;
  for (const std::string& file : files) {
    ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, coco::data::ReadFileBytes(file));
    contents.push_back(std::move(bytes));
  }
  coco::data::JpegDecoder decoder;
  coco::data::TransformOptions options;
  options.output_size = FLAGS_output_size;
  std::mt19937_64 rng(1);
  std::vector<float> out(static_cast<size_t>(3) * FLAGS_output_size * FLAGS_output_size);
  double full = 0, window = 0, resample = 0;
  const int count = static_cast<int>(contents.size());
  for (const std::vector<uint8_t>& bytes : contents) {
    ASSIGN_OR_RETURN(const coco::data::JpegHeader header, decoder.ReadHeader(bytes, "image"));
    const coco::data::CropBox box = coco::data::ChooseCrop(header.width, header.height, options, rng);
    const auto t0 = Clock::now();
    ASSIGN_OR_RETURN(const coco::data::RgbImage image, decoder.Decode(bytes, "image"));
    const auto t1 = Clock::now();
    ASSIGN_OR_RETURN(const coco::data::DecodedRegion region,
                     coco::data::DecodeCropWindow(bytes, "image", box, FLAGS_output_size));
    const auto t2 = Clock::now();
    coco::data::ResampleNormalize(region.image, coco::data::PlacementOf(region), box, options, false, out.data());
    const auto t3 = Clock::now();
    full += std::chrono::duration<double, std::milli>(t1 - t0).count();
    window += std::chrono::duration<double, std::milli>(t2 - t1).count();
    resample += std::chrono::duration<double, std::milli>(t3 - t2).count();
  }
  std::printf("one thread, per image: full decode %.2f ms, window decode %.2f ms, resample + normalise %.2f ms\n",
              full / count, window / count, resample / count);
  return absl::OkStatus();
}

absl::Status Run() {
  if (FLAGS_workers <= 0 || FLAGS_batch_size <= 0 || FLAGS_num_images <= 0 || FLAGS_epochs <= 0) {
    return absl::InvalidArgumentError("--workers, --batch_size, --num_images and --epochs must be positive");
  }
  if (FLAGS_rand_augment_ops < 0 || FLAGS_rand_augment_magnitude < 0 || FLAGS_rand_augment_magnitude > 30) {
    return absl::InvalidArgumentError("--rand_augment_ops must be >= 0 and --rand_augment_magnitude in [0, 30]");
  }
  std::string description;
  ASSIGN_OR_RETURN(const std::vector<std::string> sources, SourceImages(&description));
  std::vector<std::string> files;
  for (int i = 0; i < FLAGS_num_images; ++i) files.push_back(sources[static_cast<size_t>(i) % sources.size()]);
  std::printf("input: %s, cycled to %d images per epoch; %d workers, batch %d, output %dx%d, %d timed epochs\n",
              description.c_str(), FLAGS_num_images, FLAGS_workers, FLAGS_batch_size, FLAGS_output_size,
              FLAGS_output_size, FLAGS_epochs);
  if (FLAGS_rand_augment_ops > 0) {
    std::printf("RandAugment on both sides: %d operations per image at magnitude %d\n", FLAGS_rand_augment_ops,
                FLAGS_rand_augment_magnitude);
  }
  if (FLAGS_breakdown) RETURN_IF_ERROR(PrintBreakdown(files));
  ASSIGN_OR_RETURN(const double ours, OurImagesPerSecond(files));
  std::printf("ours (TurboJPEG + DCT scaling + fused crop/resize/normalise): %8.1f images/s\n", ours);
  if (FLAGS_python.empty()) return absl::OkStatus();
  std::fflush(stdout);
  ASSIGN_OR_RETURN(const double reference, ReferenceImagesPerSecond(files));
  std::printf("reference (PIL + torchvision transforms, DataLoader):       %8.1f images/s\n", reference);
  std::printf("ratio ours / reference: %.2fx\n", ours / reference);
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  return coco::RunMain(argc, argv, "Data pipeline throughput: ours vs PIL + torchvision DataLoader.",
                       [](int argc, char** argv) { return Run(); });
}
