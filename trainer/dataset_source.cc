#include "trainer/dataset_source.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "data/coco/coco_reader.h"
#include "data/coco/label_space.h"
#include "data/coco/layouts.h"
#include "data/emoji/emoji_catalog.h"
#include "data/emoji/emoji_coco.h"
#include "data/synthetic/synthetic_coco.h"
#include "glog/logging.h"
#include "tools/cc/status_macros.h"
#include "trainer/paths.h"

namespace trainer {
namespace {

namespace fs = std::filesystem;

// FNV-1a of `key` as 16 hex digits: the cache folder name of a generated data set.
std::string HashHex(const std::string& key) {
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : key) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return absl::StrFormat("%016x", hash);
}

std::string OptionsHash(const SyntheticDataConfig& config) {
  return HashHex(absl::StrCat("v", coco::data::kSyntheticCocoVersion, " train ", config.train_images(), " val ",
                              config.val_images(), " size ", config.image_size(), " seed ", config.seed()));
}

std::string EmojiOptionsHash(const EmojiDataConfig& config) {
  return HashHex(absl::StrCat("emoji v", coco::data::kEmojiCocoVersion, " ", config.ShortDebugString()));
}

bool IsComplete(const std::string& root) {
  return fs::exists(root + "/annotations/instances_train2017.json") &&
         fs::exists(root + "/annotations/instances_val2017.json");
}

struct SourceSpec {
  std::string name;
  std::string annotations;
  std::string images;
  double weight = 1.0;
};

// "train/_annotations.coco.json" for ".../train/_annotations.coco.json".
std::string DefaultSourceName(const std::string& annotations) {
  const fs::path path(annotations);
  const std::string parent = path.parent_path().filename();
  return parent.empty() ? path.filename().string() : parent + "/" + path.filename().string();
}

SourceSpec SpecFromConfig(const DataSourceConfig& source) {
  SourceSpec spec;
  spec.annotations = ResolveUserPath(source.annotations());
  spec.images =
      source.images().empty() ? fs::path(spec.annotations).parent_path().string() : ResolveUserPath(source.images());
  if (spec.images.empty()) spec.images = ".";
  spec.name = source.name().empty() ? DefaultSourceName(spec.annotations) : source.name();
  spec.weight = source.weight();
  return spec;
}

coco::data::LabelSpaceKind KindOf(LabelSpaceConfig::Kind kind) {
  switch (kind) {
    case LabelSpaceConfig::COCO80: return coco::data::LabelSpaceKind::kCoco80;
    case LabelSpaceConfig::UNION: return coco::data::LabelSpaceKind::kUnion;
    case LabelSpaceConfig::LIST: return coco::data::LabelSpaceKind::kList;
    default: return coco::data::LabelSpaceKind::kAuto;
  }
}

// Reads every source of a split, with the aliases applied.
absl::StatusOr<std::vector<coco::data::CocoDataset>> ReadSources(const std::vector<SourceSpec>& specs,
                                                                 const std::map<std::string, std::string>& aliases) {
  std::vector<coco::data::CocoDataset> datasets;
  for (const SourceSpec& spec : specs) {
    ASSIGN_OR_RETURN(coco::data::CocoDataset dataset, coco::data::ReadCocoInstances(spec.annotations));
    if (dataset.images.empty()) return absl::InvalidArgumentError(spec.annotations + ": no images");
    coco::data::ApplyAliases(aliases, dataset);
    datasets.push_back(std::move(dataset));
  }
  return datasets;
}

// Concatenates mapped sources into one dataset (categories: the space's). A single source keeps its file_names and
// gives its image directory; several get file_names prefixed with theirs. A limit (max_*_images) keeps the first
// images of every source in proportion to its size, so no source is left out.
coco::data::CocoDataset Merge(std::vector<coco::data::CocoDataset> datasets, const std::vector<SourceSpec>& specs,
                              const std::vector<std::vector<std::string>>& unlabelled, int64_t limit,
                              std::string& image_dir, std::vector<SourceSummary>& summaries) {
  coco::data::CocoDataset merged;
  merged.categories = datasets.front().categories;
  merged.category_annotations.assign(merged.categories.size(), 0);
  image_dir = datasets.size() == 1 ? specs.front().images : "";
  int64_t total = 0;
  for (const coco::data::CocoDataset& dataset : datasets) total += static_cast<int64_t>(dataset.images.size());
  int64_t kept_so_far = 0, seen_so_far = 0;
  for (size_t s = 0; s < datasets.size(); ++s) {
    coco::data::CocoDataset& dataset = datasets[s];
    if (limit > 0 && total > limit) {
      // Cumulative rounding: the kept counts add up to exactly `limit`.
      seen_so_far += static_cast<int64_t>(dataset.images.size());
      const int64_t kept_until_here = (seen_so_far * limit + total / 2) / total;
      dataset.images.resize(static_cast<size_t>(std::max<int64_t>(0, kept_until_here - kept_so_far)));
      kept_so_far = kept_until_here;
    }
    summaries.push_back({specs[s].name, specs[s].annotations, specs[s].images,
                         static_cast<int64_t>(dataset.images.size()), static_cast<int64_t>(merged.images.size()),
                         specs[s].weight, unlabelled[s]});
    merged.source += (s == 0 ? "" : " + ") + dataset.source;
    merged.annotations_read += dataset.annotations_read;
    for (size_t c = 0; c < merged.category_annotations.size(); ++c) {
      merged.category_annotations[c] += dataset.category_annotations[c];
    }
    for (coco::data::Image& image : dataset.images) {
      if (datasets.size() > 1) image.file_name = specs[s].images + "/" + image.file_name;
      merged.images.push_back(std::move(image));
    }
  }
  return merged;
}

// SplitMix64's finaliser: spreads FNV-1a's bits so that ranking by the hash is a fair draw.
uint64_t Mix(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Fixed on purpose: the calibration split must not move with training.seed (a sweep's seeds share it).
constexpr uint64_t kCalibrationSeed = 0xca1b4a7e5eedULL;

uint64_t CalibrationRank(const std::string& file_name, int64_t id) {
  uint64_t hash = 1469598103934665603ULL ^ kCalibrationSeed;  // FNV-1a
  const std::string key = absl::StrCat(file_name, "\n", id);
  for (unsigned char c : key) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return Mix(hash);
}

}  // namespace

absl::Status HoldOutCalibration(double fraction, DatasetSplits& splits) {
  splits.calibration = coco::data::CocoDataset();
  splits.calibration_sources.clear();
  splits.calibration_image_dir = splits.train_image_dir;
  if (fraction <= 0) return absl::OkStatus();
  const int64_t total = static_cast<int64_t>(splits.train.images.size());
  const int64_t wanted = std::max<int64_t>(1, std::llround(fraction * static_cast<double>(total)));
  if (wanted >= total) {
    return absl::InvalidArgumentError(
        absl::StrFormat("data.calibration_fraction %f of %d training images leaves none to train on", fraction, total));
  }
  coco::data::CocoDataset train = std::move(splits.train);
  splits.calibration.source = train.source + " (calibration)";
  splits.calibration.categories = train.categories;
  splits.calibration.category_names_in_file = train.category_names_in_file;
  splits.train.source = train.source;
  splits.train.categories = train.categories;
  splits.train.category_names_in_file = train.category_names_in_file;
  splits.train.category_annotations = train.category_annotations;
  splits.train.annotations_read = train.annotations_read;
  std::vector<SourceSummary> sources = std::move(splits.train_sources);
  splits.train_sources.clear();
  int64_t held_so_far = 0, seen_so_far = 0;
  for (const SourceSummary& source : sources) {
    seen_so_far += source.image_count;
    const int64_t held_until_here = (seen_so_far * wanted + total / 2) / total;
    const int64_t held = held_until_here - held_so_far;
    held_so_far = held_until_here;
    // With several sources, file names carry the source's image directory (Merge); rank by the name within it.
    const std::string prefix = sources.size() > 1 ? source.images + "/" : "";
    std::vector<std::pair<uint64_t, int64_t>> ranked;  // (rank, image index), ties by index
    for (int64_t i = source.first_image; i < source.first_image + source.image_count; ++i) {
      const coco::data::Image& image = train.images[static_cast<size_t>(i)];
      const bool prefixed = !prefix.empty() && image.file_name.compare(0, prefix.size(), prefix) == 0;
      ranked.emplace_back(CalibrationRank(prefixed ? image.file_name.substr(prefix.size()) : image.file_name, image.id),
                          i);
    }
    std::sort(ranked.begin(), ranked.end());
    std::vector<bool> held_out(static_cast<size_t>(source.image_count), false);
    for (int64_t k = 0; k < held; ++k)
      held_out[static_cast<size_t>(ranked[static_cast<size_t>(k)].second - source.first_image)] = true;
    SourceSummary kept = source, calibration = source;
    kept.first_image = static_cast<int64_t>(splits.train.images.size());
    calibration.first_image = static_cast<int64_t>(splits.calibration.images.size());
    kept.image_count = source.image_count - held;
    calibration.image_count = held;
    for (int64_t i = 0; i < source.image_count; ++i) {
      coco::data::Image& image = train.images[static_cast<size_t>(source.first_image + i)];
      (held_out[static_cast<size_t>(i)] ? splits.calibration : splits.train).images.push_back(std::move(image));
    }
    splits.train_sources.push_back(std::move(kept));
    splits.calibration_sources.push_back(std::move(calibration));
  }
  return absl::OkStatus();
}

std::string DefaultCacheRoot() {
  if (const char* cache = std::getenv("COCO_MULTILABEL_CACHE"); cache != nullptr && *cache != '\0') return cache;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/coco-multilabel";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : "/tmp") + "/.cache/coco-multilabel";
}

absl::StatusOr<std::string> EnsureSyntheticDataset(const SyntheticDataConfig& config, const std::string& cache_root) {
  const std::string root = cache_root + "/synthetic-" + OptionsHash(config);
  if (IsComplete(root)) return root;
  std::error_code error;
  fs::create_directories(cache_root, error);
  if (error) return absl::UnavailableError("cannot create cache directory '" + cache_root + "': " + error.message());
  const std::string temporary = absl::StrCat(root, ".tmp-", ::getpid());
  fs::remove_all(temporary, error);
  LOG(INFO) << "Generating the synthetic dataset (" << config.train_images() << " train / " << config.val_images()
            << " val images at " << config.image_size() << " px) into " << root << " (once; later runs reuse it)";
  coco::data::SyntheticCocoOptions options;
  options.out_dir = temporary;
  options.seed = config.seed();
  options.train_images = config.train_images();
  options.val_images = config.val_images();
  options.image_size = config.image_size();
  ASSIGN_OR_RETURN(coco::data::SyntheticCocoSummary summary, coco::data::WriteSyntheticCoco(options));
  LOG(INFO) << summary.ToString();
  fs::rename(temporary, root, error);
  if (error) {
    fs::remove_all(temporary);
    if (IsComplete(root)) return root;  // another process finished first
    return absl::UnavailableError("cannot move the synthetic dataset into '" + root + "': " + error.message());
  }
  return root;
}

std::string EmojiSetDescription(const EmojiDataConfig& config) {
  switch (config.set()) {
    case EmojiDataConfig::PRETRAIN: return absl::StrCat(config.classes(), "-class pretraining set");
    case EmojiDataConfig::PRETRAIN_MULTILABEL:
      return absl::StrCat(config.classes(), "-class multi-label pretraining set");
    default: return "COCO-80 set (val in OpenMoji)";
  }
}

absl::StatusOr<std::string> EnsureEmojiDataset(const EmojiDataConfig& config, const std::string& cache_root) {
  const std::string root = cache_root + "/emoji-" + EmojiOptionsHash(config);
  if (IsComplete(root)) return root;
  std::error_code error;
  fs::create_directories(cache_root, error);
  if (error) return absl::UnavailableError("cannot create cache directory '" + cache_root + "': " + error.message());
  coco::data::EmojiCocoOptions options;
  options.set = config.set() == EmojiDataConfig::PRETRAIN              ? coco::data::EmojiSet::kPretrain
                : config.set() == EmojiDataConfig::PRETRAIN_MULTILABEL ? coco::data::EmojiSet::kPretrainMultiLabel
                                                                       : coco::data::EmojiSet::kCoco80;
  // WriteEmojiCoco creates its folder whole or not at all; the pid keeps two processes generating at once apart.
  options.out_dir = absl::StrCat(root, ".tmp-", ::getpid());
  options.emoji_dir = coco::data::ResolveEmojiDir("");
  options.seed = config.seed();
  options.image_size = config.image_size();
  options.train_images = config.train_images();
  options.val_images = config.val_images();
  options.classes = config.classes();
  options.train_per_class = config.train_per_class();
  options.val_per_class = config.val_per_class();
  options.line_art_fraction = config.line_art_fraction();
  options.progress_every = 1000;
  LOG(INFO) << "Generating the emoji " << EmojiSetDescription(config) << " from " << options.emoji_dir << " into "
            << root << " (once; later runs reuse it)";
  ASSIGN_OR_RETURN(const coco::data::EmojiCocoResult result, coco::data::WriteEmojiCoco(options));
  LOG(INFO) << result.ToString();
  fs::rename(options.out_dir, root, error);
  if (error) {
    fs::remove_all(options.out_dir);
    if (IsComplete(root)) return root;  // another process finished first
    return absl::UnavailableError("cannot move the emoji dataset into '" + root + "': " + error.message());
  }
  return root;
}

absl::StatusOr<DatasetSplits> LoadDatasetSplits(const DataConfig& data, const std::string& data_root,
                                                const std::string& cache_root) {
  DatasetSplits splits;
  std::vector<SourceSpec> train_specs, val_specs;
  if (data.train_size() > 0) {
    if (data.has_coco()) {
      return absl::InvalidArgumentError(
          "data.coco (or --data_root) and explicit sources (data.train / --train) both "
          "name the data: use one of them");
    }
    if (!data_root.empty()) {
      return absl::InvalidArgumentError(
          "--data_root and explicit sources (data.train / --train) both name the data: "
          "use one of them");
    }
    for (const DataSourceConfig& source : data.train()) train_specs.push_back(SpecFromConfig(source));
    for (const DataSourceConfig& source : data.val()) val_specs.push_back(SpecFromConfig(source));
    splits.description = absl::StrCat(train_specs.size(), " train and ", val_specs.size(), " val sources");
  } else {
    std::string train_split = "train2017", val_split = "val2017";
    std::string layout_name = "COCO 2017";
    coco::data::DatasetLayout layout;
    if (!data_root.empty() || data.has_coco()) {
      splits.root = !data_root.empty() ? data_root : ResolveUserPath(data.coco().root());
      if (splits.root.empty()) {
        return absl::InvalidArgumentError("data.coco is chosen but no root is set: pass --data_root=DIR");
      }
      if (data.has_coco()) train_split = data.coco().train_split(), val_split = data.coco().val_split();
      ASSIGN_OR_RETURN(layout, coco::data::DetectLayout(splits.root, train_split, val_split));
      splits.description = layout.name + " layout at " + splits.root;
    } else if (data.has_emoji()) {
      ASSIGN_OR_RETURN(splits.root, EnsureEmojiDataset(data.emoji(), cache_root));
      ASSIGN_OR_RETURN(layout, coco::data::DetectLayout(splits.root));
      splits.description = "emoji " + EmojiSetDescription(data.emoji()) + " at " + splits.root;
    } else {
      ASSIGN_OR_RETURN(splits.root, EnsureSyntheticDataset(data.synthetic(), cache_root));
      ASSIGN_OR_RETURN(layout, coco::data::DetectLayout(splits.root));
      splits.description =
          absl::StrCat("synthetic COCO (", data.synthetic().train_images(), " train / ", data.synthetic().val_images(),
                       " val, ", data.synthetic().image_size(), " px) at ", splits.root);
    }
    train_specs.push_back(
        {fs::path(layout.train.annotations).filename().string(), layout.train.annotations, layout.train.images});
    val_specs.push_back(
        {fs::path(layout.val.annotations).filename().string(), layout.val.annotations, layout.val.images});
    if (layout.name == "Roboflow") train_specs.back().name = "train", val_specs.back().name = "valid";
  }

  // Sources are told apart by name (logs, per-source metrics): a default name shared by two sources becomes the
  // annotations path; two sources given the same name is an error.
  for (auto* specs : {&train_specs, &val_specs}) {
    for (size_t a = 0; a < specs->size(); ++a) {
      for (size_t b = a + 1; b < specs->size(); ++b) {
        if ((*specs)[a].name != (*specs)[b].name) continue;
        if ((*specs)[a].annotations == (*specs)[b].annotations && (*specs)[a].images == (*specs)[b].images) {
          return absl::InvalidArgumentError(std::string(specs == &train_specs ? "data.train" : "data.val") + " lists " +
                                            (*specs)[a].annotations +
                                            " twice; to show a source more often, give it a weight");
        }
        const auto& sources = specs == &train_specs ? data.train() : data.val();
        const bool named = !sources.empty() && (!sources[a].name().empty() || !sources[b].name().empty());
        if (named) {
          return absl::InvalidArgumentError(std::string(specs == &train_specs ? "data.train" : "data.val") +
                                            ": two sources are named '" + (*specs)[a].name + "'; names must differ");
        }
        (*specs)[a].name = (*specs)[a].annotations;
        (*specs)[b].name = (*specs)[b].annotations;
      }
    }
  }
  const LabelSpaceConfig& space_config = data.label_space();
  const std::vector<std::string> alias_entries(space_config.alias().begin(), space_config.alias().end());
  absl::StatusOr<std::map<std::string, std::string>> parsed_aliases =
      coco::data::ParseAliases(space_config.voc_aliases(), alias_entries, "data.label_space.alias");
  if (!parsed_aliases.ok()) return parsed_aliases.status();
  const std::map<std::string, std::string>& aliases = *parsed_aliases;
  ASSIGN_OR_RETURN(std::vector<coco::data::CocoDataset> train, ReadSources(train_specs, aliases));
  ASSIGN_OR_RETURN(std::vector<coco::data::CocoDataset> val, ReadSources(val_specs, aliases));
  std::vector<std::string> list;
  if (space_config.kind() == LabelSpaceConfig::LIST) {
    ASSIGN_OR_RETURN(list, coco::data::ReadClassList(ResolveUserPath(space_config.list_file())));
    list = coco::data::AliasNames(list, aliases);
  }
  std::vector<const coco::data::CocoDataset*> training;
  for (const coco::data::CocoDataset& dataset : train) training.push_back(&dataset);
  ASSIGN_OR_RETURN(coco::data::LabelSpace space,
                   coco::data::BuildLabelSpace(KindOf(space_config.kind()), list, training, &splits.label_space));
  std::vector<coco::data::LabelMappingReport> reports;
  std::vector<std::vector<std::string>> train_unlabelled, val_unlabelled;  // per source: class names
  for (std::vector<coco::data::CocoDataset>* split : {&train, &val}) {
    const std::vector<SourceSpec>& specs = split == &train ? train_specs : val_specs;
    for (size_t s = 0; s < split->size(); ++s) {
      coco::data::CocoDataset& dataset = (*split)[s];
      dataset.source = (split == &train ? "train:" : "val:") + specs[s].name;
      ASSIGN_OR_RETURN(coco::data::LabelMappingReport report,
                       coco::data::MapToLabelSpace(space, space_config.drop_unknown(), dataset));
      if (space_config.unlabelled_as_negative()) {
        report.unlabelled_classes.clear();
        for (coco::data::Image& image : dataset.images) image.unlabelled.clear();
      }
      std::vector<std::string> names;
      for (int32_t c : report.unlabelled_classes) names.push_back(space.names()[static_cast<size_t>(c)]);
      (split == &train ? train_unlabelled : val_unlabelled).push_back(std::move(names));
      reports.push_back(std::move(report));
    }
  }
  splits.mapping_table = coco::data::FormatMappingTable(reports, space);
  splits.mapping_changes = coco::data::FormatMappingChanges(reports, space);
  splits.unlabelled_classes = coco::data::FormatUnlabelledClasses(reports, space);
  splits.train = Merge(std::move(train), train_specs, train_unlabelled, data.max_train_images(), splits.train_image_dir,
                       splits.train_sources);
  splits.val =
      Merge(std::move(val), val_specs, val_unlabelled, data.max_val_images(), splits.val_image_dir, splits.val_sources);
  RETURN_IF_ERROR(HoldOutCalibration(data.calibration_fraction(), splits));
  if (std::any_of(train_specs.begin(), train_specs.end(), [](const SourceSpec& s) { return s.weight != 1.0; })) {
    for (const SourceSummary& source : splits.train_sources) {
      splits.train_weights.insert(splits.train_weights.end(), source.image_count, source.weight);
    }
    // image_count is after max_train_images, so the weights line up with the kept images.
  }
  if (train_specs.size() + val_specs.size() > 2) {
    for (size_t s = 0; s < splits.train_sources.size(); ++s) {
      const SourceSummary& source = splits.train_sources[s];
      const int64_t held = splits.calibration_sources.empty() ? 0 : splits.calibration_sources[s].image_count;
      absl::StrAppend(&splits.description, "; train ", source.name, " (", source.image_count, " images",
                      held > 0 ? absl::StrCat(" + ", held, " for calibration") : "",
                      source.weight != 1.0 ? absl::StrFormat(", weight %f", source.weight) : "", ")");
    }
    for (const SourceSummary& source : splits.val_sources) {
      absl::StrAppend(&splits.description, "; val ", source.name, " (", source.image_count, " images)");
    }
  }
  return splits;
}

}  // namespace trainer
