#include "data/synthetic/synthetic_coco.h"

#include <fcntl.h>
#include <turbojpeg.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <thread>

#include "data/coco/coco_categories.h"
#include "data/synthetic/splitmix_rng.h"
#include "glog/logging.h"
#include "tools/cc/status_macros.h"

namespace coco::data {
namespace {

namespace fs = std::filesystem;

constexpr double kPi = 3.14159265358979323846;
constexpr int kNumShapes = 8;
constexpr int kNumHues = 10;
constexpr int kNumTextures = 4;
// Image ids: train i -> i + 1, val i -> kValIdBase + i + 1, unique across splits as in COCO.
constexpr int64_t kValIdBase = 1000000;
// One polygon vertex per this many pixels of outline, as if clicked by an annotator; at COCO's image sizes this gives
// ~30 vertices per polygon and a train2017-sized file of COCO's size (~450 MB).
constexpr double kPolygonSpacingPx = 16.0;
constexpr int kMinPolygonVertices = 8;
constexpr int kMaxPolygonVertices = 120;

// The 79 non-person categories from most to least frequent in COCO train2017 (images containing them, roughly).
constexpr const char* kFrequencyRank[] = {
    "chair",
    "car",
    "dining table",
    "cup",
    "bottle",
    "bowl",
    "handbag",
    "truck",
    "bench",
    "backpack",
    "book",
    "cell phone",
    "tv",
    "sink",
    "clock",
    "potted plant",
    "couch",
    "dog",
    "knife",
    "sports ball",
    "traffic light",
    "cat",
    "umbrella",
    "bus",
    "tie",
    "bed",
    "vase",
    "train",
    "fork",
    "spoon",
    "laptop",
    "motorcycle",
    "surfboard",
    "skateboard",
    "tennis racket",
    "toilet",
    "bicycle",
    "bird",
    "pizza",
    "skis",
    "remote",
    "cake",
    "boat",
    "airplane",
    "horse",
    "oven",
    "baseball glove",
    "baseball bat",
    "giraffe",
    "wine glass",
    "refrigerator",
    "suitcase",
    "sandwich",
    "kite",
    "banana",
    "frisbee",
    "elephant",
    "keyboard",
    "mouse",
    "broccoli",
    "zebra",
    "stop sign",
    "fire hydrant",
    "orange",
    "carrot",
    "snowboard",
    "apple",
    "donut",
    "teddy bear",
    "microwave",
    "cow",
    "hot dog",
    "sheep",
    "toothbrush",
    "scissors",
    "bear",
    "parking meter",
    "toaster",
    "hair drier",
};
static_assert(sizeof(kFrequencyRank) / sizeof(kFrequencyRank[0]) == 79);

// One generator per image keeps the output independent of threads.
using Rng = SplitMixRng;

uint64_t SeedFor(uint64_t seed, int split, int64_t index, uint64_t stream) {
  Rng mixer(seed ^ 0x5EEDC0C0ull);
  uint64_t h = mixer.Next();
  h = Rng(h ^ static_cast<uint64_t>(split)).Next();
  h = Rng(h ^ static_cast<uint64_t>(index)).Next();
  return Rng(h ^ stream).Next();
}

enum Shape { kDisc, kSquare, kTriangle, kStar, kCross, kRing, kHalfDisc, kLShape };
enum Texture { kSolid, kStripes, kChecker, kDots };

// Each category is one (shape, hue, texture): shape and hue alone already tell the 80 apart.
struct Pattern {
  Shape shape;
  int hue;  // 0..9, 36 degrees apart
  Texture texture;
};

Pattern PatternOf(int class_index) {
  return {static_cast<Shape>(class_index % kNumShapes), class_index / kNumShapes,
          static_cast<Texture>((class_index + class_index / kNumShapes) % kNumTextures)};
}

// Polygon shapes in unit coordinates ([-1, 1] square, y down).
const std::vector<std::pair<double, double>>& PolygonOf(Shape shape) {
  static const auto* const kPolygons = [] {
    auto* polygons = new std::vector<std::vector<std::pair<double, double>>>(kNumShapes);
    (*polygons)[kSquare] = {{-0.8, -0.8}, {0.8, -0.8}, {0.8, 0.8}, {-0.8, 0.8}};
    (*polygons)[kTriangle] = {{0.0, -1.0}, {0.95, 0.8}, {-0.95, 0.8}};
    for (int i = 0; i < 10; ++i) {
      const double radius = i % 2 == 0 ? 1.0 : 0.42;
      const double angle = -kPi / 2 + i * kPi / 5;
      (*polygons)[kStar].push_back({radius * std::cos(angle), radius * std::sin(angle)});
    }
    (*polygons)[kCross] = {{-0.32, -0.95}, {0.32, -0.95}, {0.32, -0.32}, {0.95, -0.32}, {0.95, 0.32},   {0.32, 0.32},
                           {0.32, 0.95},   {-0.32, 0.95}, {-0.32, 0.32}, {-0.95, 0.32}, {-0.95, -0.32}, {-0.32, -0.32}};
    (*polygons)[kLShape] = {{-0.8, -0.95}, {-0.25, -0.95}, {-0.25, 0.4}, {0.8, 0.4}, {0.8, 0.95}, {-0.8, 0.95}};
    // Curved shapes: their outlines, finely sampled (used for outlines only; their insides are tested exactly).
    constexpr int kCurve = 96;
    for (int i = 0; i < kCurve; ++i) {
      const double angle = 2 * kPi * i / kCurve;
      (*polygons)[kDisc].push_back({std::cos(angle), std::sin(angle)});
      (*polygons)[kRing].push_back({std::cos(angle), std::sin(angle)});
    }
    // Half disc: the upper half of the unit disc centred at (0, 0.5); y spans [-0.5, 0.5].
    for (int i = 0; i <= kCurve / 2; ++i) {
      const double angle = kPi + kPi * i / (kCurve / 2);
      (*polygons)[kHalfDisc].push_back({std::cos(angle), 0.5 + std::sin(angle)});
    }
    return polygons;
  }();
  return (*kPolygons)[shape];
}

double PolygonArea(const std::vector<std::pair<double, double>>& polygon) {
  double twice = 0;
  for (size_t i = 0, j = polygon.size() - 1; i < polygon.size(); j = i++) {
    twice += polygon[j].first * polygon[i].second - polygon[i].first * polygon[j].second;
  }
  return std::abs(twice) / 2;
}

// Mask area of a shape in unit coordinates.
double UnitArea(Shape shape) {
  switch (shape) {
    case kDisc: return kPi;
    case kRing: return kPi * (1 - 0.55 * 0.55);
    case kHalfDisc: return kPi / 2;
    default: return PolygonArea(PolygonOf(shape));
  }
}

bool InsidePolygon(const std::vector<std::pair<double, double>>& polygon, double x, double y) {
  bool inside = false;
  for (size_t i = 0, j = polygon.size() - 1; i < polygon.size(); j = i++) {
    const auto& [xi, yi] = polygon[i];
    const auto& [xj, yj] = polygon[j];
    if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

bool InsideShape(Shape shape, double u, double v) {
  const double r2 = u * u + v * v;
  switch (shape) {
    case kDisc: return r2 <= 1;
    case kRing: return r2 <= 1 && r2 >= 0.55 * 0.55;
    case kHalfDisc: return v <= 0.5 && u * u + (v - 0.5) * (v - 0.5) <= 1;
    case kSquare: return std::abs(u) <= 0.8 && std::abs(v) <= 0.8;
    default: return InsidePolygon(PolygonOf(shape), u, v);
  }
}

struct Rgb {
  double r, g, b;
};

Rgb FromHsv(double hue_degrees, double saturation, double value) {
  const double h = std::fmod(hue_degrees + 360.0, 360.0) / 60.0;
  const double c = value * saturation;
  const double x = c * (1 - std::abs(std::fmod(h, 2.0) - 1));
  const double m = value - c;
  Rgb rgb{0, 0, 0};
  switch (static_cast<int>(h)) {
    case 0: rgb = {c, x, 0}; break;
    case 1: rgb = {x, c, 0}; break;
    case 2: rgb = {0, c, x}; break;
    case 3: rgb = {0, x, c}; break;
    case 4: rgb = {x, 0, c}; break;
    default: rgb = {c, 0, x}; break;
  }
  return {(rgb.r + m) * 255, (rgb.g + m) * 255, (rgb.b + m) * 255};
}

struct Object {
  int class_index = 0;
  double cx = 0, cy = 0;  // centre, pixels
  double half_w = 0, half_h = 0;
  double angle = 0;  // radians
  Rgb primary{}, secondary{};
  double texture_scale = 2.5;  // texture periods per unit length
};

enum Background { kLinear, kRadial, kValueNoise };

struct ImagePlan {
  int64_t id = 0;
  int width = 0, height = 0;
  bool dark = false;
  double brightness = 1;
  Background background = kLinear;
  Rgb colors[4]{};
  double direction = 0;  // linear gradient angle; radial centre below
  double focus_x = 0.5, focus_y = 0.5;
  std::vector<int> labels;      // distinct classes, ascending
  std::vector<Object> objects;  // in drawing order (largest first)
  std::string date_captured;
};

struct Split {
  int index;         // 0 train, 1 val: part of every image's seed
  const char* name;  // "train2017"
  int64_t images;
};

std::string FileName(int64_t id) {
  char name[32];
  std::snprintf(name, sizeof(name), "%012lld.jpg", static_cast<long long>(id));
  return name;
}

// Rotated unit outline -> image coordinates.
std::pair<double, double> ToImage(const Object& object, double u, double v) {
  const double c = std::cos(object.angle), s = std::sin(object.angle);
  const double x = u * object.half_w, y = v * object.half_h;
  return {object.cx + c * x - s * y, object.cy + s * x + c * y};
}

class Planner {
 public:
  Planner(const SyntheticCocoOptions& options, std::vector<double> frequencies)
      : options_(options), frequencies_(std::move(frequencies)) {}

  ImagePlan Plan(const Split& split, int64_t index) const {
    Rng rng(SeedFor(options_.seed, split.index, index, 1));
    ImagePlan plan;
    plan.id = (split.index == 0 ? 0 : kValIdBase) + index + 1;
    if (options_.annotations_only) {
      // COCO's common sizes: 640 on the long side, mostly landscape.
      static constexpr int kShortSides[] = {480, 427, 426, 425, 428, 360, 512, 383};
      const int short_side = kShortSides[rng.Index(8)];
      const bool landscape = rng.Bernoulli(0.75);
      plan.width = landscape ? 640 : short_side;
      plan.height = landscape ? short_side : 640;
    } else {
      plan.width = plan.height = static_cast<int>(options_.image_size);
    }
    plan.dark = rng.Bernoulli(options_.dark_fraction);
    plan.brightness = plan.dark ? rng.Uniform(0.10, 0.25) : rng.Uniform(0.8, 1.15);
    plan.background = static_cast<Background>(rng.Index(3));
    for (Rgb& color : plan.colors) color = FromHsv(rng.Uniform(0, 360), rng.Uniform(0, 0.35), rng.Uniform(0.45, 0.95));
    plan.direction = rng.Uniform(0, 2 * kPi);
    plan.focus_x = rng.Uniform(0.2, 0.8);
    plan.focus_y = rng.Uniform(0.2, 0.8);
    char date[64];
    std::snprintf(date, sizeof(date), "2013-%02d-%02d %02d:%02d:%02d", 1 + rng.Index(12), 1 + rng.Index(28),
                  rng.Index(24), rng.Index(60), rng.Index(60));
    plan.date_captured = date;

    for (int c = 0; c < static_cast<int>(frequencies_.size()); ++c) {
      if (rng.Bernoulli(frequencies_[static_cast<size_t>(c)])) plan.labels.push_back(c);
    }
    const double side = std::min(plan.width, plan.height);
    const double extra_p = 1.0 / options_.instances_per_label;  // geometric number of extra instances
    for (int c : plan.labels) {
      const double first = rng.Uniform(0.2, 0.6);
      int instances = 1;
      while (instances < 16 && !rng.Bernoulli(extra_p)) ++instances;
      for (int i = 0; i < instances; ++i) {
        const double fraction = i == 0 ? first : std::max(0.12, first * rng.Uniform(0.5, 0.8));
        plan.objects.push_back(PlaceObject(c, fraction * side, plan, rng));
      }
    }
    std::stable_sort(plan.objects.begin(), plan.objects.end(),
                     [](const Object& a, const Object& b) { return a.half_w * a.half_h > b.half_w * b.half_h; });
    return plan;
  }

 private:
  Object PlaceObject(int class_index, double size, const ImagePlan& plan, Rng& rng) const {
    const Pattern pattern = PatternOf(class_index);
    Object object;
    object.class_index = class_index;
    const double aspect = std::exp(rng.Uniform(-0.2, 0.2));
    object.half_w = size / 2 * aspect;
    object.half_h = size / 2 / aspect;
    object.angle = rng.Uniform(-kPi, kPi);
    const double hue = pattern.hue * 36.0 + rng.Uniform(-5, 5);
    const double saturation = rng.Uniform(0.75, 1.0);
    const double value = rng.Uniform(0.75, 1.0);
    object.primary = FromHsv(hue, saturation, value);
    object.secondary = FromHsv(hue, saturation, value * 0.4);
    object.texture_scale = rng.Uniform(2.0, 3.0);
    // Keep the whole outline inside the image, shrinking the rare object that does not fit.
    double min_x = 0, max_x = 0, min_y = 0, max_y = 0;
    for (int attempt = 0; attempt < 10; ++attempt) {
      min_x = min_y = 1e9;
      max_x = max_y = -1e9;
      for (const auto& [u, v] : PolygonOf(pattern.shape)) {
        const auto [x, y] = ToImage(object, u, v);
        min_x = std::min(min_x, x), max_x = std::max(max_x, x);
        min_y = std::min(min_y, y), max_y = std::max(max_y, y);
      }
      if (max_x - min_x < plan.width - 1 && max_y - min_y < plan.height - 1) break;
      object.half_w *= 0.85;
      object.half_h *= 0.85;
    }
    object.cx = rng.Uniform(-min_x, plan.width - max_x);
    object.cy = rng.Uniform(-min_y, plan.height - max_y);
    return object;
  }

  const SyntheticCocoOptions& options_;
  const std::vector<double> frequencies_;
};

// Renders an image plan to packed RGB.
std::vector<uint8_t> Render(const ImagePlan& plan, uint64_t noise_seed) {
  const int w = plan.width, h = plan.height;
  std::vector<float> pixels(static_cast<size_t>(w) * h * 3);
  const double dx = std::cos(plan.direction), dy = std::sin(plan.direction);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const double fx = (x + 0.5) / w, fy = (y + 0.5) / h;
      Rgb color{};
      if (plan.background == kLinear) {
        const double t = std::clamp(0.5 + (fx - 0.5) * dx + (fy - 0.5) * dy, 0.0, 1.0);
        const Rgb& a = plan.colors[0];
        const Rgb& b = plan.colors[1];
        color = {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t};
      } else if (plan.background == kRadial) {
        const double t = std::min(1.0, std::hypot(fx - plan.focus_x, fy - plan.focus_y) * 1.6);
        const Rgb& a = plan.colors[2];
        const Rgb& b = plan.colors[3];
        color = {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t};
      } else {
        // Bilinear blend of the four corner colours, warped: a smooth, blotchy field.
        const double u = 0.5 + 0.5 * std::sin(3 * fx + 2 * plan.direction + 2 * fy);
        const double v = 0.5 + 0.5 * std::sin(3 * fy + plan.direction + 2.5 * fx * fy);
        const Rgb& c00 = plan.colors[0];
        const Rgb& c10 = plan.colors[1];
        const Rgb& c01 = plan.colors[2];
        const Rgb& c11 = plan.colors[3];
        const auto mix = [&](double p00, double p10, double p01, double p11) {
          return (p00 * (1 - u) + p10 * u) * (1 - v) + (p01 * (1 - u) + p11 * u) * v;
        };
        color = {mix(c00.r, c10.r, c01.r, c11.r), mix(c00.g, c10.g, c01.g, c11.g), mix(c00.b, c10.b, c01.b, c11.b)};
      }
      float* pixel = &pixels[(static_cast<size_t>(y) * w + x) * 3];
      pixel[0] = static_cast<float>(color.r);
      pixel[1] = static_cast<float>(color.g);
      pixel[2] = static_cast<float>(color.b);
    }
  }
  for (const Object& object : plan.objects) {
    const Pattern pattern = PatternOf(object.class_index);
    const double c = std::cos(object.angle), s = std::sin(object.angle);
    const double reach = std::hypot(object.half_w, object.half_h) * 1.0;
    const int x0 = std::max(0, static_cast<int>(object.cx - reach));
    const int x1 = std::min(w - 1, static_cast<int>(object.cx + reach) + 1);
    const int y0 = std::max(0, static_cast<int>(object.cy - reach));
    const int y1 = std::min(h - 1, static_cast<int>(object.cy + reach) + 1);
    for (int y = y0; y <= y1; ++y) {
      for (int x = x0; x <= x1; ++x) {
        const double px = x + 0.5 - object.cx, py = y + 0.5 - object.cy;
        const double u = (c * px + s * py) / object.half_w;
        const double v = (-s * px + c * py) / object.half_h;
        if (!InsideShape(pattern.shape, u, v)) continue;
        const double k = object.texture_scale;
        const int iu = static_cast<int>(std::floor((u + 1) * k));
        const int iv = static_cast<int>(std::floor((v + 1) * k));
        bool second = false;
        switch (pattern.texture) {
          case kSolid: break;
          case kStripes: second = iu % 2 == 1; break;
          case kChecker: second = (iu + iv) % 2 == 1; break;
          case kDots: {
            const double fu = (u + 1) * k - iu - 0.5, fv = (v + 1) * k - iv - 0.5;
            second = fu * fu + fv * fv < 0.09;
            break;
          }
        }
        const Rgb& color = second ? object.secondary : object.primary;
        float* pixel = &pixels[(static_cast<size_t>(y) * w + x) * 3];
        pixel[0] = static_cast<float>(color.r);
        pixel[1] = static_cast<float>(color.g);
        pixel[2] = static_cast<float>(color.b);
      }
    }
  }
  Rng noise(noise_seed);
  std::vector<uint8_t> rgb(pixels.size());
  const float brightness = static_cast<float>(plan.brightness);
  for (size_t i = 0; i < pixels.size(); ++i) {
    const float jitter = static_cast<float>(noise.Uniform(-6, 6));
    rgb[i] = static_cast<uint8_t>(std::clamp((pixels[i] + jitter) * brightness + 0.5f, 0.0f, 255.0f));
  }
  return rgb;
}

absl::Status ErrnoError(const std::string& what, const std::string& path) {
  return absl::UnavailableError(what + " '" + path + "': " + std::strerror(errno));
}

absl::Status WriteJpeg(tjhandle compressor, const std::vector<uint8_t>& rgb, int width, int height, int quality,
                       const std::string& path) {
  unsigned char* jpeg = nullptr;
  unsigned long jpeg_size = 0;
  if (tjCompress2(compressor, rgb.data(), width, 0, height, TJPF_RGB, &jpeg, &jpeg_size, TJSAMP_420, quality, 0) != 0) {
    const std::string error = tjGetErrorStr2(compressor);
    tjFree(jpeg);
    return absl::InternalError("cannot encode " + path + ": " + error);
  }
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    tjFree(jpeg);
    return ErrnoError("cannot create", path);
  }
  const bool written = std::fwrite(jpeg, 1, jpeg_size, file) == jpeg_size;
  tjFree(jpeg);
  if (std::fclose(file) != 0 || !written) return ErrnoError("cannot write", path);
  return absl::OkStatus();
}

// A JSON text streamed to a temporary file in large chunks, renamed over its final path by Commit().
class JsonStream {
 public:
  static absl::StatusOr<std::unique_ptr<JsonStream>> Open(const std::string& path) {
    std::unique_ptr<JsonStream> stream(new JsonStream(path));
    stream->fd_ = ::open(stream->temporary_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (stream->fd_ < 0) return ErrnoError("cannot create", stream->temporary_);
    stream->buffer_.reserve(kChunk + 4096);
    return stream;
  }
  ~JsonStream() {
    if (fd_ >= 0) {
      ::close(fd_);
      ::unlink(temporary_.c_str());
    }
  }

  JsonStream& Raw(std::string_view text) {
    buffer_.append(text);
    if (buffer_.size() >= kChunk) Flush();
    return *this;
  }
  JsonStream& Int(int64_t value) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof(digits), value).ptr;
    buffer_.append(digits, static_cast<size_t>(end - digits));
    return *this;
  }
  // At most two decimals, trailing zeros dropped, as in COCO's files ("457.3", "240").
  JsonStream& Fixed2(double value) {
    int64_t hundredths = std::llround(value * 100);
    if (hundredths < 0) {
      buffer_.push_back('-');
      hundredths = -hundredths;
    }
    Int(hundredths / 100);
    const int fraction = static_cast<int>(hundredths % 100);
    if (fraction != 0) {
      buffer_.push_back('.');
      buffer_.push_back(static_cast<char>('0' + fraction / 10));
      if (fraction % 10 != 0) buffer_.push_back(static_cast<char>('0' + fraction % 10));
    }
    return *this;
  }
  JsonStream& String(std::string_view text) {
    buffer_.push_back('"');
    for (char c : text) {
      if (c == '"' || c == '\\') buffer_.push_back('\\');
      buffer_.push_back(c);
    }
    buffer_.push_back('"');
    return *this;
  }
  // null instead of the string, as labelme's exports write unused fields.
  JsonStream& StringOrNull(bool null, std::string_view text) { return null ? Raw("null") : String(text); }

  absl::StatusOr<int64_t> Commit() {
    Flush();
    if (!error_.ok()) return error_;
    if (::fsync(fd_) != 0 || ::close(fd_) != 0) {
      fd_ = -1;
      ::unlink(temporary_.c_str());
      return ErrnoError("cannot flush", temporary_);
    }
    fd_ = -1;
    if (std::rename(temporary_.c_str(), path_.c_str()) != 0) {
      absl::Status error = ErrnoError("cannot rename into place", path_);
      ::unlink(temporary_.c_str());
      return error;
    }
    return bytes_;
  }

 private:
  static constexpr size_t kChunk = size_t{1} << 22;

  explicit JsonStream(std::string path)
      : path_(std::move(path)), temporary_(path_ + ".tmp." + std::to_string(::getpid())) {}

  void Flush() {
    size_t written = 0;
    while (error_.ok() && written < buffer_.size()) {
      const ssize_t n = ::write(fd_, buffer_.data() + written, buffer_.size() - written);
      if (n < 0) {
        if (errno == EINTR) continue;
        error_ = ErrnoError("cannot write", temporary_);
      } else {
        written += static_cast<size_t>(n);
      }
    }
    bytes_ += static_cast<int64_t>(written);
    buffer_.clear();
  }

  std::string path_, temporary_;
  int fd_ = -1;
  std::string buffer_;
  int64_t bytes_ = 0;
  absl::Status error_;
};

// Writes one split's instances JSON, re-planning each image (cheap) rather than holding the split in memory.
absl::StatusOr<SyntheticSplitSummary> WriteInstances(const SyntheticCocoOptions& options, const Planner& planner,
                                                     const Split& split, int rarest_class, const std::string& path) {
  const bool labelme = options.layout == SyntheticLayout::kLabelme;
  SyntheticSplitSummary summary;
  summary.name = split.name;
  summary.images = split.images;
  summary.annotations_path = path;
  ASSIGN_OR_RETURN(std::unique_ptr<JsonStream> json, JsonStream::Open(path));
  json->Raw("{\"info\":{\"description\":\"Synthetic COCO-layout dataset (data/make_synthetic_coco, seed ")
      .Int(static_cast<int64_t>(options.seed))
      .Raw(
          ")\",\"url\":\"\",\"version\":\"1.0\",\"year\":2017,\"contributor\":\"coco-multilabel\","
          "\"date_created\":\"2017/09/01\"},\"licenses\":[{\"url\":\"\",\"id\":1,\"name\":\"Procedurally generated, "
          "no rights reserved\"}],\"images\":[");
  for (int64_t i = 0; i < split.images; ++i) {
    const ImagePlan plan = planner.Plan(split, i);
    json->Raw(i == 0 ? "{" : ",{")
        .Raw(labelme ? "\"license\":null,\"url\":null,\"file_name\":" : "\"license\":1,\"file_name\":")
        .String((labelme ? "JPEGImages/" : "") + FileName(plan.id))
        .Raw(",\"height\":")
        .Int(plan.height)
        .Raw(",\"width\":")
        .Int(plan.width)
        .Raw(",\"date_captured\":")
        .StringOrNull(labelme, plan.date_captured)
        .Raw(",\"id\":")
        .Int(plan.id)
        .Raw("}");
  }
  json->Raw("],\"annotations\":[");
  const std::vector<Category>& categories = Coco2017Categories();
  int64_t annotation_id = split.index == 0 ? 1 : 900000001;
  std::vector<std::pair<double, double>> outline;
  for (int64_t i = 0; i < split.images; ++i) {
    const ImagePlan plan = planner.Plan(split, i);
    summary.labels += static_cast<int64_t>(plan.labels.size());
    summary.images_with_person += !plan.labels.empty() && plan.labels.front() == 0;
    summary.images_without_labels += plan.labels.empty();
    summary.dark_images += plan.dark;
    summary.rarest_class_images += std::count(plan.labels.begin(), plan.labels.end(), rarest_class);
    for (const Object& object : plan.objects) {
      const Shape shape = PatternOf(object.class_index).shape;
      const std::vector<std::pair<double, double>>& unit = PolygonOf(shape);
      // Resample the outline at even arc length, about one vertex per kPolygonSpacingPx pixels.
      std::vector<std::pair<double, double>> dense;
      dense.reserve(unit.size());
      for (const auto& [u, v] : unit) dense.push_back(ToImage(object, u, v));
      std::vector<double> cumulative(dense.size() + 1, 0.0);
      for (size_t k = 0; k < dense.size(); ++k) {
        const auto& a = dense[k];
        const auto& b = dense[(k + 1) % dense.size()];
        cumulative[k + 1] = cumulative[k] + std::hypot(b.first - a.first, b.second - a.second);
      }
      const double perimeter = cumulative.back();
      const int vertices = std::clamp(static_cast<int>(std::lround(perimeter / kPolygonSpacingPx)), kMinPolygonVertices,
                                      kMaxPolygonVertices);
      outline.clear();
      size_t edge = 0;
      for (int k = 0; k < vertices; ++k) {
        const double at = perimeter * k / vertices;
        while (cumulative[edge + 1] < at) ++edge;
        const auto& a = dense[edge];
        const auto& b = dense[(edge + 1) % dense.size()];
        const double length = cumulative[edge + 1] - cumulative[edge];
        const double t = length > 0 ? (at - cumulative[edge]) / length : 0;
        outline.push_back({std::clamp(a.first + (b.first - a.first) * t, 0.0, plan.width - 0.0),
                           std::clamp(a.second + (b.second - a.second) * t, 0.0, plan.height - 0.0)});
      }
      double min_x = 1e9, min_y = 1e9, max_x = -1e9, max_y = -1e9;
      json->Raw(summary.annotations == 0 ? "{" : ",{").Raw("\"segmentation\":[[");
      for (size_t k = 0; k < outline.size(); ++k) {
        const auto& [x, y] = outline[k];
        min_x = std::min(min_x, x), max_x = std::max(max_x, x);
        min_y = std::min(min_y, y), max_y = std::max(max_y, y);
        if (k > 0) json->Raw(",");
        json->Fixed2(x).Raw(",").Fixed2(y);
      }
      json->Raw("]],\"area\":")
          .Fixed2(UnitArea(shape) * object.half_w * object.half_h)
          .Raw(",\"iscrowd\":0,\"image_id\":")
          .Int(plan.id)
          .Raw(",\"bbox\":[")
          .Fixed2(min_x)
          .Raw(",")
          .Fixed2(min_y)
          .Raw(",")
          .Fixed2(max_x - min_x)
          .Raw(",")
          .Fixed2(max_y - min_y)
          .Raw("],\"category_id\":")
          .Int(categories[static_cast<size_t>(object.class_index)].id)
          .Raw(",\"id\":")
          .Int(annotation_id++)
          .Raw("}");
      ++summary.annotations;
    }
    if (options.progress_every > 0 && (i + 1) % options.progress_every == 0) {
      LOG(INFO) << split.name << ": " << (i + 1) << " / " << split.images << " images annotated";
    }
  }
  json->Raw("],\"categories\":[");
  // The extra category some exporters add, which no annotation uses.
  if (options.layout == SyntheticLayout::kRoboflow) {
    json->Raw("{\"id\":0,\"name\":\"objects\",\"supercategory\":\"none\"},");
  } else if (labelme) {
    json->Raw("{\"id\":0,\"name\":\"_background_\",\"supercategory\":null},");
  }
  for (size_t c = 0; c < categories.size(); ++c) {
    json->Raw(c == 0 ? "{" : ",{")
        .Raw("\"supercategory\":")
        .StringOrNull(labelme, categories[c].supercategory)
        .Raw(",\"id\":")
        .Int(categories[c].id)
        .Raw(",\"name\":")
        .String(categories[c].name)
        .Raw("}");
  }
  json->Raw("]}\n");
  ASSIGN_OR_RETURN(summary.annotations_bytes, json->Commit());
  return summary;
}

// Renders a split's JPEGs into `folder` on `threads` threads; every image has its own seed.
absl::Status WriteImages(const SyntheticCocoOptions& options, const Planner& planner, const Split& split,
                         const std::string& folder, int threads) {
  std::atomic<int64_t> next{0}, done{0};
  std::mutex mutex;
  absl::Status first_error;
  const auto work = [&] {
    tjhandle compressor = tjInitCompress();
    if (compressor == nullptr) {
      std::lock_guard<std::mutex> lock(mutex);
      if (first_error.ok()) first_error = absl::InternalError("tjInitCompress failed");
      return;
    }
    for (int64_t i = next++; i < split.images; i = next++) {
      const ImagePlan plan = planner.Plan(split, i);
      const std::vector<uint8_t> rgb = Render(plan, SeedFor(options.seed, split.index, i, 2));
      absl::Status status =
          WriteJpeg(compressor, rgb, plan.width, plan.height, options.jpeg_quality, folder + "/" + FileName(plan.id));
      if (!status.ok()) {
        std::lock_guard<std::mutex> lock(mutex);
        if (first_error.ok()) first_error = status;
        next = split.images;
        break;
      }
      const int64_t finished = ++done;
      if (options.progress_every > 0 && finished % options.progress_every == 0) {
        LOG(INFO) << split.name << ": " << finished << " / " << split.images << " images rendered";
      }
    }
    tjDestroy(compressor);
  };
  std::vector<std::thread> workers;
  for (int t = 1; t < threads; ++t) workers.emplace_back(work);
  work();
  for (std::thread& worker : workers) worker.join();
  return first_error;
}

// Moves a finished folder over `target`, removing the older one.
struct SplitPaths {
  std::string images;       // the folder the JPEGs go to
  std::string annotations;  // the JSON
};

SplitPaths PathsOf(const SyntheticCocoOptions& options, const Split& split) {
  const std::string& out = options.out_dir;
  const std::string coco_json = out + "/annotations/instances_" + split.name + ".json";
  const std::string short_name = split.index == 0 ? "train" : "val";
  switch (options.layout) {
    case SyntheticLayout::kImagesSplit: return {out + "/images/" + split.name, coco_json};
    case SyntheticLayout::kRoboflow: {
      const std::string folder = out + "/" + (split.index == 0 ? "train" : "valid");
      return {folder, folder + "/_annotations.coco.json"};
    }
    case SyntheticLayout::kLabelme:
      return {out + "/" + short_name + "/JPEGImages", out + "/" + short_name + "/annotations.json"};
    case SyntheticLayout::kCoco2017: break;
  }
  return {out + "/" + split.name, coco_json};
}

absl::Status ReplaceFolder(const std::string& staged, const std::string& target) {
  std::error_code error;
  const std::string old = target + ".old." + std::to_string(::getpid());
  if (fs::exists(target, error)) {
    fs::rename(target, old, error);
    if (error) return absl::UnavailableError("cannot move aside '" + target + "': " + error.message());
  }
  fs::rename(staged, target, error);
  if (error) return absl::UnavailableError("cannot rename '" + staged + "' to '" + target + "': " + error.message());
  fs::remove_all(old, error);
  return absl::OkStatus();
}

absl::Status Validate(const SyntheticCocoOptions& options) {
  if (options.out_dir.empty()) return absl::InvalidArgumentError("the output directory is not set");
  if (options.train_images < 0 || options.val_images < 0 || options.train_images + options.val_images == 0) {
    return absl::InvalidArgumentError("train_images and val_images must be non-negative, and not both 0");
  }
  if (options.train_images >= kValIdBase || options.val_images >= kValIdBase) {
    return absl::InvalidArgumentError("at most " + std::to_string(kValIdBase - 1) + " images per split");
  }
  if (!options.annotations_only && (options.image_size < 32 || options.image_size > 4096)) {
    return absl::InvalidArgumentError("image_size must be in [32, 4096], got " + std::to_string(options.image_size));
  }
  if (options.jpeg_quality < 1 || options.jpeg_quality > 100) {
    return absl::InvalidArgumentError("jpeg_quality must be in [1, 100]");
  }
  if (options.person_fraction < 0 || options.person_fraction > 1) {
    return absl::InvalidArgumentError("person_fraction must be in [0, 1]");
  }
  if (options.rarest_fraction <= 0 || options.rarest_fraction >= 1) {
    return absl::InvalidArgumentError("rarest_fraction must be in (0, 1)");
  }
  if (options.instances_per_label < 1) return absl::InvalidArgumentError("instances_per_label must be at least 1");
  if (options.dark_fraction < 0 || options.dark_fraction > 1) {
    return absl::InvalidArgumentError("dark_fraction must be in [0, 1]");
  }
  return absl::OkStatus();
}

int ClassIndexOf(const std::string& name) {
  const std::vector<Category>& categories = Coco2017Categories();
  for (size_t i = 0; i < categories.size(); ++i) {
    if (categories[i].name == name) return static_cast<int>(i);
  }
  LOG(FATAL) << "unknown COCO category '" << name << "' in the frequency ranking";
}

}  // namespace

const char* SyntheticLayoutName(SyntheticLayout layout) {
  switch (layout) {
    case SyntheticLayout::kImagesSplit: return "images_split";
    case SyntheticLayout::kRoboflow: return "roboflow";
    case SyntheticLayout::kLabelme: return "labelme";
    case SyntheticLayout::kCoco2017: break;
  }
  return "coco2017";
}

absl::StatusOr<std::vector<double>> SyntheticClassFrequencies(const SyntheticCocoOptions& options) {
  RETURN_IF_ERROR(Validate(options));
  constexpr int kRanked = 79;
  const double target = options.labels_per_image - options.person_fraction;
  const auto total = [&](double head) {
    double sum = 0;
    for (int r = 0; r < kRanked; ++r) sum += head * std::pow(options.rarest_fraction / head, r / (kRanked - 1.0));
    return sum;
  };
  if (target < total(options.rarest_fraction) * (1 + 1e-9) || target > total(1.0)) {
    std::ostringstream message;
    message << "labels_per_image " << options.labels_per_image << " cannot be reached with person_fraction "
            << options.person_fraction << " and rarest_fraction " << options.rarest_fraction
            << " (possible: " << options.person_fraction + total(options.rarest_fraction) << " to "
            << options.person_fraction + total(1.0) << ")";
    return absl::InvalidArgumentError(message.str());
  }
  double low = options.rarest_fraction, high = 1.0;
  for (int i = 0; i < 100; ++i) {
    const double middle = (low + high) / 2;
    (total(middle) < target ? low : high) = middle;
  }
  const double head = (low + high) / 2;
  std::vector<double> frequencies(Coco2017Categories().size(), 0.0);
  frequencies[static_cast<size_t>(ClassIndexOf("person"))] = options.person_fraction;
  for (int r = 0; r < kRanked; ++r) {
    frequencies[static_cast<size_t>(ClassIndexOf(kFrequencyRank[r]))] =
        head * std::pow(options.rarest_fraction / head, r / (kRanked - 1.0));
  }
  return frequencies;
}

std::string SyntheticCocoSummary::ToString() const {
  std::ostringstream text;
  text.setf(std::ios::fixed);
  text.precision(3);
  for (const SyntheticSplitSummary& split : splits) {
    const double n = std::max<int64_t>(1, split.images);
    text << split.name << ": " << split.images << " images, " << split.annotations << " annotations ("
         << split.annotations / n << " per image), " << split.labels / n << " labels per image, person in "
         << split.images_with_person / n << ", no label in " << split.images_without_labels / n << ", rarest class ("
         << kFrequencyRank[78] << ") in " << split.rarest_class_images << " images, dark images " << split.dark_images
         << " (" << split.dark_images / n << ")\n  " << split.annotations_path << " (" << split.annotations_bytes / 1e6
         << " MB)\n";
  }
  return text.str();
}

absl::StatusOr<SyntheticCocoSummary> WriteSyntheticCoco(const SyntheticCocoOptions& options) {
  ASSIGN_OR_RETURN(std::vector<double> frequencies, SyntheticClassFrequencies(options));
  const int rarest_class = ClassIndexOf(kFrequencyRank[78]);
  const Planner planner(options, std::move(frequencies));
  const int threads =
      options.threads > 0 ? options.threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  std::error_code error;
  fs::create_directories(options.out_dir, error);
  if (error) return absl::UnavailableError("cannot create '" + options.out_dir + "': " + error.message());

  SyntheticCocoSummary summary;
  const Split splits[] = {{0, "train2017", options.train_images}, {1, "val2017", options.val_images}};
  for (const Split& split : splits) {
    if (split.images == 0) continue;
    const SplitPaths paths = PathsOf(options, split);
    fs::create_directories(fs::path(paths.annotations).parent_path(), error);
    if (error) return absl::UnavailableError("cannot create the folder of '" + paths.annotations + "'");
    if (!options.annotations_only) {
      const std::string& folder = paths.images;
      const std::string staged = folder + ".tmp." + std::to_string(::getpid());
      fs::remove_all(staged, error);
      fs::create_directories(staged, error);
      if (error) return absl::UnavailableError("cannot create '" + staged + "': " + error.message());
      RETURN_IF_ERROR(WriteImages(options, planner, split, staged, threads));
      RETURN_IF_ERROR(ReplaceFolder(staged, folder));
    }
    // The JSON goes last: a reader that finds it finds its images.
    ASSIGN_OR_RETURN(SyntheticSplitSummary split_summary,
                     WriteInstances(options, planner, split, rarest_class, paths.annotations));
    summary.splits.push_back(std::move(split_summary));
  }
  return summary;
}

}  // namespace coco::data
