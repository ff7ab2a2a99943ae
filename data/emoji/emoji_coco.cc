#include "data/emoji/emoji_coco.h"

#include <turbojpeg.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "data/coco/coco_categories.h"
#include "data/synthetic/coco_relayout.h"
#include "data/synthetic/synthetic_coco.h"
#include "glog/logging.h"
#include "tools/cc/atomic_file.h"
#include "tools/cc/json_string.h"
#include "tools/cc/status_macros.h"

namespace coco::data {
namespace {

namespace fs = std::filesystem;

// Image ids: train i -> i + 1, val i -> kValIdBase + i + 1, unique across splits as in COCO; annotation ids likewise.
constexpr int64_t kValIdBase = 1000000;
constexpr int64_t kValAnnotationIdBase = 900000000;
// A COCO-80 picture whose labelled objects end up less visible than this is planned again (up to kPlanAttempts).
constexpr double kMinVisible = 0.3;
constexpr int kPlanAttempts = 8;
constexpr char kReadmeFirstLine[] = "coco-multilabel emoji data set (data/emoji/make_emoji_coco)";
constexpr const char* kAttribution[kNumArtworks] = {
    "Noto Emoji by Google, Apache License 2.0",
    "Twemoji by Twitter, Inc. and other contributors, CC-BY 4.0",
    "OpenMoji, the open-source emoji and icon project, CC BY-SA 4.0",
};

struct Split {
  int index;         // 0 train, 1 val: part of every image's seed
  const char* name;  // "train2017"
  int64_t images;
  ArtworkChoice artwork;
};

const char* SetName(EmojiSet set) {
  switch (set) {
    case EmojiSet::kCoco80: return "coco80";
    case EmojiSet::kPretrain: return "pretrain";
    case EmojiSet::kPretrainMultiLabel: return "pretrain_multilabel";
  }
  return "?";
}

const char* SetTitle(EmojiSet set) {
  switch (set) {
    case EmojiSet::kCoco80: return "Emoji COCO-80 multi-label set";
    case EmojiSet::kPretrain: return "Emoji single-label pretraining set";
    case EmojiSet::kPretrainMultiLabel: return "Emoji multi-label pretraining set";
  }
  return "?";
}

std::string FileName(int64_t id) {
  char name[32];
  std::snprintf(name, sizeof(name), "%012lld.jpg", static_cast<long long>(id));
  return name;
}

absl::Status Validate(const EmojiCocoOptions& options) {
  if (options.out_dir.empty()) return absl::InvalidArgumentError("the output directory (out_dir) is not set");
  if (fs::path(options.out_dir).filename().empty()) {
    return absl::InvalidArgumentError("out_dir '" + options.out_dir + "' must name a folder (no trailing '/')");
  }
  if (options.image_size < 32 || options.image_size > 1024) {
    return absl::InvalidArgumentError("image_size must be in [32, 1024], got " + std::to_string(options.image_size));
  }
  if (options.jpeg_quality < 1 || options.jpeg_quality > 100) {
    return absl::InvalidArgumentError("jpeg_quality must be in [1, 100]");
  }
  const auto fraction = [](double value, const char* name) {
    return value >= 0 && value <= 1 ? absl::OkStatus()
                                    : absl::InvalidArgumentError(std::string(name) + " must be in [0, 1]");
  };
  RETURN_IF_ERROR(fraction(options.dark_fraction, "dark_fraction"));
  RETURN_IF_ERROR(fraction(options.blur_fraction, "blur_fraction"));
  RETURN_IF_ERROR(fraction(options.line_art_fraction, "line_art_fraction"));
  if (options.set == EmojiSet::kPretrain && options.line_art_fraction > 0) {
    return absl::InvalidArgumentError("line_art_fraction applies to the multi-label sets, not to pretrain");
  }
  if (options.set != EmojiSet::kPretrain) {
    if (options.train_images < 0 || options.val_images < 0 || options.train_images + options.val_images == 0 ||
        options.train_images >= kValIdBase || options.val_images >= kValIdBase) {
      return absl::InvalidArgumentError("train_images and val_images must be in [0, " + std::to_string(kValIdBase - 1) +
                                        "], not both 0");
    }
    if (options.max_objects < 1 || options.max_objects > 32) {
      return absl::InvalidArgumentError("max_objects must be in [1, 32]");
    }
    if (options.max_clutter < 0 || options.max_clutter > 32) {
      return absl::InvalidArgumentError("max_clutter must be in [0, 32]");
    }
    if (options.instances_per_label < 1) return absl::InvalidArgumentError("instances_per_label must be at least 1");
    if (options.set == EmojiSet::kPretrainMultiLabel &&
        !(options.labels_per_image > 0 && options.labels_per_image <= options.classes)) {
      return absl::InvalidArgumentError("labels_per_image must be in (0, classes]");
    }
  } else {
    if (options.train_per_class < 0 || options.val_per_class < 0 ||
        options.train_per_class + options.val_per_class == 0) {
      return absl::InvalidArgumentError("train_per_class and val_per_class must be non-negative, not both 0");
    }
    const int64_t most = std::max(options.train_per_class, options.val_per_class) * std::max(options.classes, 1);
    if (most >= kValIdBase) {
      return absl::InvalidArgumentError("at most " + std::to_string(kValIdBase - 1) + " images per split, got " +
                                        std::to_string(most));
    }
  }
  return absl::OkStatus();
}

// Runs body(i) for i in [0, n) on `threads` threads; returns the error of the lowest failing i (the same whatever the
// thread count).
absl::Status ParallelFor(int64_t n, int threads, const std::function<absl::Status(int64_t)>& body) {
  std::atomic<int64_t> next{0};
  std::mutex mutex;
  int64_t failed_at = n;
  absl::Status first_error;
  const auto work = [&] {
    for (int64_t i = next++; i < n; i = next++) {
      absl::Status status = body(i);
      if (status.ok()) continue;
      std::lock_guard<std::mutex> lock(mutex);
      if (i < failed_at) failed_at = i, first_error = std::move(status);
    }
  };
  std::vector<std::thread> workers;
  for (int t = 1; t < threads; ++t) workers.emplace_back(work);
  work();
  for (std::thread& worker : workers) worker.join();
  return first_error;
}

// Decodes every (emoji, artwork) the set can draw, once.
absl::StatusOr<std::vector<Sprite>> LoadSprites(const EmojiCatalog& catalog, const std::vector<int>& entries,
                                                const std::vector<Artwork>& artworks, bool line_art, int threads) {
  std::vector<Sprite> sprites(catalog.entries().size() * kNumArtworks * 2);
  std::vector<std::pair<int, Artwork>> wanted;
  for (int entry : entries) {
    for (Artwork artwork : artworks) wanted.emplace_back(entry, artwork);
  }
  RETURN_IF_ERROR(ParallelFor(static_cast<int64_t>(wanted.size()), threads, [&](int64_t i) -> absl::Status {
    const auto [entry, artwork] = wanted[static_cast<size_t>(i)];
    const std::string path = catalog.ImagePath(entry, artwork);
    absl::StatusOr<Sprite> sprite = ReadSprite(path);
    if (!sprite.ok()) {
      return absl::Status(sprite.status().code(), "emoji artwork: " + std::string(sprite.status().message()) + " (" +
                                                      ArtworkTitle(artwork) + " image of '" +
                                                      catalog.entries()[static_cast<size_t>(entry)].short_name +
                                                      "'); " + ReinstallHint(catalog.dir()));
    }
    if (line_art && artwork != Artwork::kOpenMoji) sprites[SpriteIndex(entry, artwork, true)] = LineArtVariant(*sprite);
    sprites[SpriteIndex(entry, artwork, false)] = *std::move(sprite);
    return absl::OkStatus();
  }));
  return sprites;
}

absl::Status WriteJpeg(tjhandle compressor, const std::vector<uint8_t>& rgb, int size, int quality,
                       const std::string& path) {
  unsigned char* jpeg = nullptr;
  unsigned long jpeg_size = 0;
  if (tjCompress2(compressor, rgb.data(), size, 0, size, TJPF_RGB, &jpeg, &jpeg_size, TJSAMP_420, quality, 0) != 0) {
    const std::string error = tjGetErrorStr2(compressor);
    tjFree(jpeg);
    return absl::InternalError("cannot encode " + path + ": " + error);
  }
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    tjFree(jpeg);
    return absl::UnavailableError("cannot create '" + path + "': " + std::strerror(errno));
  }
  const bool written = std::fwrite(jpeg, 1, jpeg_size, file) == jpeg_size;
  tjFree(jpeg);
  if (std::fclose(file) != 0 || !written) {
    return absl::UnavailableError("cannot write '" + path + "': " + std::strerror(errno));
  }
  return absl::OkStatus();
}

// Everything a split's images are drawn from.
struct Setup {
  const EmojiCocoOptions* options;
  std::vector<Sprite> sprites;
  CocoSceneConfig coco;               // kCoco80 and kPretrainMultiLabel
  PretrainSceneConfig pretrain;       // kPretrain
  std::vector<int> pretrain_classes;  // kPretrain and kPretrainMultiLabel: class -> entry
};

// Plans and draws image `index` of `split`. COCO-80 pictures whose labelled objects are too hidden are planned anew
// (attempt k uses its own stream of the image's seed), so the result is still a function of (seed, split, index).
RenderedScene DrawImage(const Setup& setup, const Split& split, int64_t index) {
  const EmojiCocoOptions& options = *setup.options;
  const uint64_t noise_seed = EmojiSeed(options.seed, split.index, index, 0);
  if (options.set == EmojiSet::kPretrain) {
    EmojiRng rng(EmojiSeed(options.seed, split.index, index, 1));
    const int class_index = static_cast<int>(index % static_cast<int64_t>(setup.pretrain_classes.size()));
    const ScenePlan plan =
        PlanPretrainScene(setup.pretrain, class_index, setup.pretrain_classes[static_cast<size_t>(class_index)], rng);
    return RenderScene(plan, setup.sprites, options.image_size, noise_seed);
  }
  RenderedScene scene;
  for (int attempt = 0; attempt < kPlanAttempts; ++attempt) {
    EmojiRng rng(EmojiSeed(options.seed, split.index, index, 1 + static_cast<uint64_t>(attempt)));
    scene = RenderScene(PlanCocoScene(setup.coco, split.artwork, rng), setup.sprites, options.image_size, noise_seed);
    if (MinLabelledVisibility(scene) >= kMinVisible) break;
  }
  return scene;
}

absl::StatusOr<SplitRecord> WriteSplitImages(const Setup& setup, const Split& split, const std::string& folder,
                                             int threads) {
  const EmojiCocoOptions& options = *setup.options;
  std::error_code error;
  fs::create_directories(folder, error);
  if (error) return absl::UnavailableError("cannot create '" + folder + "': " + error.message());
  SplitRecord record;
  record.name = split.name;
  record.images.resize(static_cast<size_t>(split.images));
  std::atomic<int64_t> done{0};
  RETURN_IF_ERROR(ParallelFor(split.images, threads, [&](int64_t i) -> absl::Status {
    // One TurboJPEG handle per thread, made on first use.
    thread_local std::unique_ptr<void, int (*)(tjhandle)> compressor(nullptr, tjDestroy);
    if (compressor == nullptr) compressor.reset(tjInitCompress());
    if (compressor == nullptr) return absl::InternalError("tjInitCompress failed");
    ImageRecord& image = record.images[static_cast<size_t>(i)];
    image.id = (split.index == 0 ? 0 : kValIdBase) + i + 1;
    image.file_name = FileName(image.id);
    RenderedScene scene = DrawImage(setup, split, i);
    image.dark = scene.dark;
    image.pastes = std::move(scene.pastes);
    RETURN_IF_ERROR(WriteJpeg(compressor.get(), scene.rgb, options.image_size, options.jpeg_quality,
                              folder + "/" + image.file_name));
    const int64_t finished = ++done;
    if (options.progress_every > 0 && finished % options.progress_every == 0) {
      LOG(INFO) << split.name << ": " << finished << " / " << split.images << " images";
    }
    return absl::OkStatus();
  }));
  return record;
}

// Licence ids in the JSON: 0 no artwork (background only), 1-3 one artwork set, 4 Noto and Twemoji together.
int LicenseOf(const ImageRecord& image) {
  bool used[kNumArtworks] = {false, false, false};
  for (const PasteRecord& paste : image.pastes) used[static_cast<int>(paste.artwork)] = true;
  if (used[static_cast<int>(Artwork::kOpenMoji)]) return 3;
  if (used[0] && used[1]) return 4;
  if (used[0]) return 1;
  return used[1] ? 2 : 0;
}

std::string InstancesJson(const EmojiCocoOptions& options, const EmojiCocoResult& result, const Split& split,
                          const SplitRecord& record, const EmojiCatalog& catalog) {
  std::string json;
  json.reserve(static_cast<size_t>(record.images.size()) * 400 + 65536);
  json += "{\"info\":{\"description\":";
  json += JsonString(std::string(SetTitle(options.set)) + " (data/emoji/make_emoji_coco, version " +
                     std::to_string(kEmojiCocoVersion) + ", seed " + std::to_string(options.seed) + ")");
  json += ",\"url\":\"\",\"version\":\"" + std::to_string(kEmojiCocoVersion) +
          "\",\"year\":2026,\"contributor\":\"coco-multilabel; artwork: " + std::string(kAttribution[0]) + "; " +
          kAttribution[1] + "; " + kAttribution[2] + "\",\"date_created\":\"2026/12/07\"},\"licenses\":[";
  json +=
      "{\"id\":0,\"name\":\"Procedurally generated, no artwork\",\"url\":\"\"},"
      "{\"id\":1,\"name\":\"Noto Emoji: Apache License 2.0\",\"url\":\"https://www.apache.org/licenses/LICENSE-2.0\"},"
      "{\"id\":2,\"name\":\"Twemoji: CC-BY 4.0\",\"url\":\"https://creativecommons.org/licenses/by/4.0/\"},"
      "{\"id\":3,\"name\":\"OpenMoji: CC BY-SA 4.0\",\"url\":\"https://creativecommons.org/licenses/by-sa/4.0/\"},"
      "{\"id\":4,\"name\":\"Noto Emoji (Apache License 2.0) and Twemoji (CC-BY 4.0)\",\"url\":\"\"}],\"images\":[";
  const std::string size = std::to_string(options.image_size);
  for (size_t i = 0; i < record.images.size(); ++i) {
    const ImageRecord& image = record.images[i];
    json += i == 0 ? "{" : ",{";
    json += "\"id\":" + std::to_string(image.id) + ",\"file_name\":\"" + image.file_name + "\",\"width\":" + size +
            ",\"height\":" + size + ",\"license\":" + std::to_string(LicenseOf(image)) + "}";
  }
  json += "],\"annotations\":[";
  int64_t annotation_id = split.index == 0 ? 1 : kValAnnotationIdBase + 1;
  bool first = true;
  for (const ImageRecord& image : record.images) {
    for (const PasteRecord& paste : image.pastes) {
      if (paste.class_index < 0 || paste.area == 0) continue;
      const int x0 = paste.x, y0 = paste.y, x1 = paste.x + paste.width, y1 = paste.y + paste.height;
      json += first ? "{" : ",{";
      first = false;
      json += "\"id\":" + std::to_string(annotation_id++) + ",\"image_id\":" + std::to_string(image.id) +
              ",\"category_id\":" + std::to_string(result.categories[static_cast<size_t>(paste.class_index)].id) +
              ",\"bbox\":[" + std::to_string(x0) + "," + std::to_string(y0) + "," + std::to_string(paste.width) + "," +
              std::to_string(paste.height) + "],\"area\":" + std::to_string(paste.area) +
              ",\"iscrowd\":0,\"segmentation\":[[" + std::to_string(x0) + "," + std::to_string(y0) + "," +
              std::to_string(x1) + "," + std::to_string(y0) + "," + std::to_string(x1) + "," + std::to_string(y1) +
              "," + std::to_string(x0) + "," + std::to_string(y1) +
              "]],\"emoji\":" + JsonString(catalog.entries()[static_cast<size_t>(paste.entry)].short_name) +
              ",\"artwork\":\"" + ArtworkName(paste.artwork) + "\"" + (paste.line_art ? ",\"line_art\":true}" : "}");
    }
  }
  json += "],\"categories\":[";
  for (size_t c = 0; c < result.categories.size(); ++c) {
    const Category& category = result.categories[c];
    json += c == 0 ? "{" : ",{";
    json += "\"id\":" + std::to_string(category.id) + ",\"name\":" + JsonString(category.name) +
            ",\"supercategory\":" + JsonString(category.supercategory) + "}";
  }
  json += "]}\n";
  return json;
}

std::string Readme(const EmojiCocoOptions& options, const EmojiCatalog& catalog, const std::string& mapping_source,
                   const std::vector<Split>& splits) {
  std::ostringstream text;
  text << kReadmeFirstLine << ", version " << kEmojiCocoVersion << "\n\n";
  text << "set: " << SetName(options.set) << "\nseed: " << options.seed << "\nimage_size: " << options.image_size
       << "\njpeg_quality: " << options.jpeg_quality << "\n";
  // Only for the other layouts, so that COCO 2017's output stays as it was.
  if (options.layout != SyntheticLayout::kCoco2017) text << "layout: " << SyntheticLayoutName(options.layout) << "\n";
  if (options.set == EmojiSet::kCoco80) {
    text << "mapping: " << mapping_source << "\ntrain_images: " << options.train_images
         << "\nval_images: " << options.val_images << "\nperson_fraction: " << options.person_fraction
         << "\nlabels_per_image: " << options.labels_per_image << "\nrarest_fraction: " << options.rarest_fraction
         << "\ninstances_per_label: " << options.instances_per_label << "\nmax_objects: " << options.max_objects
         << "\nmax_clutter: " << options.max_clutter << "\n";
  } else if (options.set == EmojiSet::kPretrainMultiLabel) {
    text << "classes: " << options.classes << "\ntrain_images: " << options.train_images
         << "\nval_images: " << options.val_images << "\nlabels_per_image: " << options.labels_per_image
         << "\ninstances_per_label: " << options.instances_per_label << "\nmax_objects: " << options.max_objects
         << "\n";
  } else {
    text << "classes: " << options.classes << "\ntrain_per_class: " << options.train_per_class
         << "\nval_per_class: " << options.val_per_class << "\n";
  }
  text << "dark_fraction: " << options.dark_fraction << "\nblur_fraction: " << options.blur_fraction << "\n";
  if (options.line_art_fraction > 0) text << "line_art_fraction: " << options.line_art_fraction << "\n";
  std::ifstream version(catalog.dir() + "/VERSION");
  std::string artwork_version;
  if (version && std::getline(version, artwork_version)) text << "artwork: " << artwork_version << "\n";
  text << "\nArtwork (each annotation's \"artwork\" field names the set its emoji was drawn from):\n";
  for (const Split& split : splits) {
    if (split.images == 0) continue;
    text << split.name << ": "
         << (split.artwork == ArtworkChoice::kOpenMojiOnly ? kAttribution[2]
                                                           : std::string(kAttribution[0]) + "; " + kAttribution[1])
         << "\n";
  }
  return text.str();
}

// True if `dir` is absent, or holds a README.txt this generator wrote.
absl::Status CheckReplaceable(const std::string& dir) {
  std::error_code error;
  if (!fs::exists(dir, error)) return absl::OkStatus();
  std::ifstream readme(dir + "/README.txt");
  std::string first;
  if (readme && std::getline(readme, first) && first.rfind(kReadmeFirstLine, 0) == 0) return absl::OkStatus();
  return absl::AlreadyExistsError("'" + dir +
                                  "' exists and is not an emoji data set (no README.txt from "
                                  "make_emoji_coco); remove it or choose another out_dir");
}

absl::Status MoveIntoPlace(const std::string& staged, const std::string& target) {
  std::error_code error;
  const std::string old = target + ".old." + std::to_string(::getpid());
  const bool replacing = fs::exists(target, error);
  if (replacing) {
    fs::rename(target, old, error);
    if (error) return absl::UnavailableError("cannot move aside '" + target + "': " + error.message());
  }
  fs::rename(staged, target, error);
  if (error) {
    std::error_code ignored;
    if (replacing) fs::rename(old, target, ignored);
    return absl::UnavailableError("cannot rename '" + staged + "' to '" + target + "': " + error.message());
  }
  fs::remove_all(old, error);
  return absl::OkStatus();
}

absl::StatusOr<EmojiCocoResult> Generate(const EmojiCocoOptions& options, const std::string& staging, int threads) {
  const bool coco80 = options.set == EmojiSet::kCoco80;
  const bool single_label = options.set == EmojiSet::kPretrain;
  const std::string mapping_text =
      options.mapping_text.empty() ? std::string(DefaultMappingTable()) : options.mapping_text;
  const std::string mapping_source = options.mapping_text.empty() ? kDefaultMappingSource : options.mapping_source;
  ASSIGN_OR_RETURN(const EmojiCatalog catalog, EmojiCatalog::Load(options.emoji_dir, mapping_text, mapping_source));

  // Val draws only OpenMoji in the COCO-80 set (a style never seen in training); the pretraining set's val draws the
  // same artwork as its train split, in other composites.
  const std::vector<Split> splits = {
      {0, "train2017", single_label ? options.train_per_class * options.classes : options.train_images,
       ArtworkChoice::kNotoOrTwemoji},
      {1, "val2017", single_label ? options.val_per_class * options.classes : options.val_images,
       coco80 ? ArtworkChoice::kOpenMojiOnly : ArtworkChoice::kNotoOrTwemoji}};
  Setup setup;
  setup.options = &options;
  EmojiCocoResult result;
  result.out_dir = options.out_dir;
  std::vector<int> drawn;  // every emoji the set may paste
  std::vector<Artwork> artworks;
  if (coco80) {
    SyntheticCocoOptions frequency_options;
    frequency_options.out_dir = options.out_dir;
    frequency_options.person_fraction = options.person_fraction;
    frequency_options.labels_per_image = options.labels_per_image;
    frequency_options.rarest_fraction = options.rarest_fraction;
    ASSIGN_OR_RETURN(setup.coco.frequencies, SyntheticClassFrequencies(frequency_options));
    setup.coco.image_size = options.image_size;
    setup.coco.clutter = catalog.CocoClutter();
    setup.coco.instances_per_label = options.instances_per_label;
    setup.coco.max_objects = options.max_objects;
    setup.coco.max_clutter = options.max_clutter;
    setup.coco.dark_fraction = options.dark_fraction;
    setup.coco.blur_fraction = options.blur_fraction;
    setup.coco.line_art_fraction = options.line_art_fraction;
    for (const CategoryEmoji& category : catalog.coco()) {
      result.categories.push_back(category.category);
      setup.coco.class_emoji.push_back(category.emoji);
      drawn.insert(drawn.end(), category.emoji.begin(), category.emoji.end());
    }
    drawn.insert(drawn.end(), setup.coco.clutter.begin(), setup.coco.clutter.end());
    if (options.train_images > 0) artworks = {Artwork::kNoto, Artwork::kTwemoji};
    if (options.val_images > 0) artworks.push_back(Artwork::kOpenMoji);
  } else if (options.set == EmojiSet::kPretrainMultiLabel) {
    // Every class equally frequent; no clutter (an unlabelled emoji of the pool would be a missing label).
    ASSIGN_OR_RETURN(setup.pretrain_classes, catalog.PretrainClasses(options.classes));
    setup.coco.image_size = options.image_size;
    setup.coco.frequencies.assign(setup.pretrain_classes.size(), options.labels_per_image / options.classes);
    setup.coco.instances_per_label = options.instances_per_label;
    setup.coco.max_objects = options.max_objects;
    setup.coco.max_clutter = 0;
    setup.coco.dark_fraction = options.dark_fraction;
    setup.coco.blur_fraction = options.blur_fraction;
    setup.coco.may_mirror = false;
    setup.coco.line_art_fraction = options.line_art_fraction;
    for (size_t c = 0; c < setup.pretrain_classes.size(); ++c) {
      const EmojiEntry& entry = catalog.entries()[static_cast<size_t>(setup.pretrain_classes[c])];
      result.categories.push_back({static_cast<int64_t>(c) + 1, entry.short_name, entry.category});
      setup.coco.class_emoji.push_back({setup.pretrain_classes[c]});
    }
    drawn = setup.pretrain_classes;
    artworks = {Artwork::kNoto, Artwork::kTwemoji};
  } else {
    ASSIGN_OR_RETURN(setup.pretrain_classes, catalog.PretrainClasses(options.classes));
    setup.pretrain.image_size = options.image_size;
    setup.pretrain.clutter = catalog.PretrainClutter(setup.pretrain_classes);
    setup.pretrain.dark_fraction = options.dark_fraction;
    setup.pretrain.blur_fraction = options.blur_fraction;
    std::map<std::string, int> subcategories;
    for (const EmojiEntry& entry : catalog.entries()) {
      setup.pretrain.subcategory.push_back(
          subcategories.emplace(entry.category + "/" + entry.subcategory, subcategories.size()).first->second);
    }
    for (size_t c = 0; c < setup.pretrain_classes.size(); ++c) {
      const EmojiEntry& entry = catalog.entries()[static_cast<size_t>(setup.pretrain_classes[c])];
      result.categories.push_back({static_cast<int64_t>(c) + 1, entry.short_name, entry.category});
    }
    drawn = setup.pretrain_classes;
    drawn.insert(drawn.end(), setup.pretrain.clutter.begin(), setup.pretrain.clutter.end());
    artworks = {Artwork::kNoto, Artwork::kTwemoji};
  }
  ASSIGN_OR_RETURN(setup.sprites, LoadSprites(catalog, drawn, artworks, options.line_art_fraction > 0, threads));

  std::error_code error;
  fs::create_directories(staging + "/annotations", error);
  if (error) return absl::UnavailableError("cannot create '" + staging + "/annotations': " + error.message());
  for (const Split& split : splits) {
    if (split.images == 0) continue;
    ASSIGN_OR_RETURN(SplitRecord record, WriteSplitImages(setup, split, staging + "/" + split.name, threads));
    RETURN_IF_ERROR(WriteFileAtomically(staging + "/annotations/instances_" + split.name + ".json",
                                        InstancesJson(options, result, split, record, catalog)));
    result.splits.push_back(std::move(record));
  }
  RETURN_IF_ERROR(WriteFileAtomically(staging + "/README.txt", Readme(options, catalog, mapping_source, splits)));
  RETURN_IF_ERROR(RelayoutCoco2017Folder(staging, options.layout));
  return result;
}

}  // namespace

std::string EmojiCocoResult::ToString() const {
  std::ostringstream text;
  text.setf(std::ios::fixed);
  text.precision(3);
  for (const SplitRecord& split : splits) {
    int64_t annotations = 0, labels = 0, person = 0, unlabelled = 0, clutter = 0, dark = 0;
    int64_t artwork[kNumArtworks] = {0, 0, 0};
    double lowest_visible = 1;
    for (const ImageRecord& image : split.images) {
      std::set<int> present;
      dark += image.dark;
      for (const PasteRecord& paste : image.pastes) {
        ++artwork[static_cast<int>(paste.artwork)];
        if (paste.class_index < 0) {
          ++clutter;
          continue;
        }
        ++annotations;
        present.insert(paste.class_index);
        lowest_visible = std::min(lowest_visible, paste.visible_fraction);
      }
      labels += static_cast<int64_t>(present.size());
      person += present.count(0) > 0 && !categories.empty() && categories[0].name == "person";
      unlabelled += present.empty();
    }
    const double n = std::max<size_t>(1, split.images.size());
    text << split.name << ": " << split.images.size() << " images, " << annotations << " annotations ("
         << annotations / n << " per image), " << labels / n << " labels per image, person in " << person / n
         << ", no label in " << unlabelled / n << ", dark " << dark / n << ", clutter " << clutter / n
         << " per image; pastes by artwork: Noto " << artwork[0] << ", Twemoji " << artwork[1] << ", OpenMoji "
         << artwork[2] << "; least visible labelled object " << lowest_visible << "\n";
  }
  return text.str();
}

absl::StatusOr<EmojiCocoResult> WriteEmojiCoco(const EmojiCocoOptions& options) {
  RETURN_IF_ERROR(Validate(options));
  RETURN_IF_ERROR(CheckReplaceable(options.out_dir));
  const int threads =
      options.threads > 0 ? options.threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  const std::string staging = options.out_dir + ".partial";
  std::error_code error;
  fs::remove_all(staging, error);
  if (error) return absl::UnavailableError("cannot remove the stale '" + staging + "': " + error.message());
  absl::StatusOr<EmojiCocoResult> result = Generate(options, staging, threads);
  if (result.ok()) {
    const absl::Status moved = MoveIntoPlace(staging, options.out_dir);
    if (!moved.ok()) result = moved;
  }
  if (!result.ok()) fs::remove_all(staging, error);
  return result;
}

}  // namespace coco::data
