#include "data/emoji/emoji_catalog.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "data/coco/coco_categories.h"
#include "tools/cc/status_macros.h"

namespace coco::data {
namespace {

namespace fs = std::filesystem;

constexpr const char* kColumns[] = {"category", "emoji", "match", "also_shows", "note"};
constexpr int kNumColumns = 5;

std::string Trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \r");
  if (begin == std::string_view::npos) return "";
  const size_t end = text.find_last_not_of(" \r");
  return std::string(text.substr(begin, end - begin + 1));
}

std::vector<std::string> Split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    parts.push_back(
        std::string(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start)));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::string Where(const std::string& source, int line, const char* column) {
  return source + ":" + std::to_string(line) + ": column '" + column + "'";
}

absl::StatusOr<std::vector<std::string>> ParseNames(const std::string& field, const std::string& source, int line,
                                                    const char* column, bool required) {
  std::vector<std::string> names;
  if (Trim(field).empty()) {
    if (required) return absl::InvalidArgumentError(Where(source, line, column) + ": no emoji short names");
    return names;
  }
  for (const std::string& part : Split(field, ',')) {
    std::string name = Trim(part);
    if (name.empty()) {
      return absl::InvalidArgumentError(Where(source, line, column) + ": an empty short name in '" + field +
                                        "' (comma-separated, no empty items)");
    }
    names.push_back(std::move(name));
  }
  return names;
}

bool InPretrainPool(const EmojiEntry& entry) {
  return entry.category != "Flags" && entry.category != "Component" && entry.has_noto && entry.has_twemoji;
}

}  // namespace

const char* ArtworkFolder(Artwork artwork) {
  switch (artwork) {
    case Artwork::kNoto: return "google";
    case Artwork::kTwemoji: return "twitter";
    case Artwork::kOpenMoji: return "openmoji";
  }
  return "?";
}

const char* ArtworkName(Artwork artwork) {
  switch (artwork) {
    case Artwork::kNoto: return "noto";
    case Artwork::kTwemoji: return "twemoji";
    case Artwork::kOpenMoji: return "openmoji";
  }
  return "?";
}

const char* ArtworkTitle(Artwork artwork) {
  switch (artwork) {
    case Artwork::kNoto: return "Noto";
    case Artwork::kTwemoji: return "Twemoji";
    case Artwork::kOpenMoji: return "OpenMoji";
  }
  return "?";
}

std::string ReinstallHint(const std::string& emoji_dir) {
  return "run `bash tools/setup.sh` to install the emoji artwork (it skips the download while " + emoji_dir +
         "/VERSION exists: delete that file first to reinstall damaged artwork), or point --emoji_dir / "
         "COCO_MULTILABEL_EMOJI_DIR at a complete copy";
}

absl::StatusOr<std::vector<EmojiEntry>> ReadEmojiJson(const std::string& path) {
  std::error_code exists_error;
  if (!fs::is_regular_file(path, exists_error)) {
    return absl::NotFoundError("emoji artwork not found: " + path + " does not exist; " +
                               ReinstallHint(fs::path(path).parent_path().string()));
  }
  simdjson::padded_string json;
  if (const simdjson::error_code error = simdjson::padded_string::load(path).get(json)) {
    return absl::UnavailableError("cannot read " + path + ": " + simdjson::error_message(error));
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (const simdjson::error_code error = parser.parse(json).get(root)) {
    return absl::InvalidArgumentError(path + ": malformed JSON (" + simdjson::error_message(error) + "); " +
                                      ReinstallHint(fs::path(path).parent_path().string()));
  }
  simdjson::dom::array array;
  if (root.get_array().get(array)) {
    return absl::InvalidArgumentError(path + ": expected a JSON array of emoji entries at the top level");
  }
  std::vector<EmojiEntry> entries;
  int64_t index = 0;
  for (simdjson::dom::element element : array) {
    EmojiEntry entry;
    std::string_view text;
    const auto where = [&](const char* field) {
      return path + ": entry " + std::to_string(index) + (entry.unified.empty() ? "" : " (" + entry.unified + ")") +
             ": field '" + field + "'";
    };
    const auto string_field = [&](const char* field, std::string& out) -> absl::Status {
      if (element[field].get_string().get(text)) {
        return absl::InvalidArgumentError(where(field) + " is missing or not a string");
      }
      out = std::string(text);
      return absl::OkStatus();
    };
    RETURN_IF_ERROR(string_field("unified", entry.unified));
    RETURN_IF_ERROR(string_field("image", entry.image));
    RETURN_IF_ERROR(string_field("short_name", entry.short_name));
    RETURN_IF_ERROR(string_field("category", entry.category));
    RETURN_IF_ERROR(string_field("subcategory", entry.subcategory));
    if (entry.image.empty() || entry.image.find('/') != std::string::npos) {
      return absl::InvalidArgumentError(where("image") + " is not a plain file name: '" + entry.image + "'");
    }
    simdjson::dom::array names;
    if (element["short_names"].get_array().get(names)) {
      return absl::InvalidArgumentError(where("short_names") + " is missing or not an array");
    }
    for (simdjson::dom::element name : names) {
      if (name.get_string().get(text)) return absl::InvalidArgumentError(where("short_names") + " holds a non-string");
      entry.short_names.push_back(std::string(text));
    }
    if (element["sort_order"].get_int64().get(entry.sort_order)) {
      return absl::InvalidArgumentError(where("sort_order") + " is missing or not an integer");
    }
    if (element["has_img_google"].get_bool().get(entry.has_noto)) {
      return absl::InvalidArgumentError(where("has_img_google") + " is missing or not a boolean");
    }
    if (element["has_img_twitter"].get_bool().get(entry.has_twemoji)) {
      return absl::InvalidArgumentError(where("has_img_twitter") + " is missing or not a boolean");
    }
    entries.push_back(std::move(entry));
    ++index;
  }
  if (entries.empty()) return absl::InvalidArgumentError(path + ": no emoji entries");
  return entries;
}

absl::StatusOr<std::vector<MappingRow>> ParseMappingTable(std::string_view text, const std::string& source) {
  const std::vector<Category>& categories = Coco2017Categories();
  std::map<std::string, int> row_of_category;  // name -> line
  std::vector<MappingRow> rows;
  bool header_seen = false;
  int line_number = 0;
  for (const std::string& raw : Split(text, '\n')) {
    ++line_number;
    const std::string line = raw.empty() || raw.back() != '\r' ? raw : raw.substr(0, raw.size() - 1);
    if (Trim(line).empty() || line[0] == '#') continue;
    std::vector<std::string> fields = Split(line, '\t');
    if (!header_seen) {
      header_seen = true;
      bool matches = static_cast<int>(fields.size()) == kNumColumns;
      for (int c = 0; matches && c < kNumColumns; ++c) matches = Trim(fields[c]) == kColumns[c];
      if (!matches) {
        return absl::InvalidArgumentError(source + ":" + std::to_string(line_number) +
                                          ": expected the header 'category<TAB>emoji<TAB>match<TAB>also_shows<TAB>"
                                          "note', got '" +
                                          line + "'");
      }
      continue;
    }
    if (fields.size() < 3 || fields.size() > kNumColumns) {
      return absl::InvalidArgumentError(source + ":" + std::to_string(line_number) +
                                        ": expected 3 to 5 tab-separated "
                                        "columns (category, emoji, match[, also_shows[, note]]), got " +
                                        std::to_string(fields.size()));
    }
    fields.resize(kNumColumns);
    MappingRow row;
    row.line = line_number;
    row.category = Trim(fields[0]);
    const bool known = std::any_of(categories.begin(), categories.end(),
                                   [&](const Category& category) { return category.name == row.category; });
    if (!known) {
      return absl::InvalidArgumentError(Where(source, line_number, "category") + ": '" + row.category +
                                        "' is not a COCO 2017 category name (data/coco/coco_categories.cc)");
    }
    if (const auto [it, inserted] = row_of_category.emplace(row.category, line_number); !inserted) {
      return absl::InvalidArgumentError(Where(source, line_number, "category") + ": '" + row.category +
                                        "' already has a row, on line " + std::to_string(it->second));
    }
    ASSIGN_OR_RETURN(row.emoji, ParseNames(fields[1], source, line_number, "emoji", /*required=*/true));
    const std::string match = Trim(fields[2]);
    if (match != "exact" && match != "approximate") {
      return absl::InvalidArgumentError(Where(source, line_number, "match") + ": expected exact or approximate, got '" +
                                        match + "'");
    }
    row.exact = match == "exact";
    ASSIGN_OR_RETURN(row.also_shows, ParseNames(fields[3], source, line_number, "also_shows", /*required=*/false));
    row.note = Trim(fields[4]);
    if (!row.exact && row.note.empty()) {
      return absl::InvalidArgumentError(Where(source, line_number, "note") +
                                        ": an approximate row needs a note saying why its emoji stand in");
    }
    rows.push_back(std::move(row));
  }
  if (!header_seen) return absl::InvalidArgumentError(source + ": no header and no rows");
  std::string missing;
  for (const Category& category : categories) {
    if (row_of_category.count(category.name) == 0) missing += (missing.empty() ? "'" : ", '") + category.name + "'";
  }
  if (!missing.empty()) {
    return absl::InvalidArgumentError(source + ": no row for the COCO categories " + missing +
                                      " (every one of the 80 needs exactly one)");
  }
  return rows;
}

absl::StatusOr<EmojiCatalog> EmojiCatalog::Load(const std::string& emoji_dir, std::string_view mapping_text,
                                                const std::string& mapping_source) {
  EmojiCatalog catalog;
  catalog.dir_ = emoji_dir;
  std::error_code error;
  if (!fs::is_directory(emoji_dir, error)) {
    return absl::NotFoundError("emoji artwork not found: the folder " + emoji_dir + " does not exist; " +
                               ReinstallHint(emoji_dir));
  }
  ASSIGN_OR_RETURN(catalog.entries_, ReadEmojiJson(emoji_dir + "/emoji.json"));
  ASSIGN_OR_RETURN(std::vector<MappingRow> rows, ParseMappingTable(mapping_text, mapping_source));

  std::map<std::string, int> entry_of;
  for (size_t i = 0; i < catalog.entries_.size(); ++i) {
    for (const std::string& name : catalog.entries_[i].short_names) entry_of.emplace(name, static_cast<int>(i));
    entry_of.emplace(catalog.entries_[i].short_name, static_cast<int>(i));
  }
  catalog.excluded_from_clutter_.assign(catalog.entries_.size(), false);
  std::map<int, std::pair<int, std::string>> used;  // entry -> (line, short name as written)
  const auto lookup = [&](const MappingRow& row, const std::string& name, const char* column) -> absl::StatusOr<int> {
    const auto found = entry_of.find(name);
    if (found == entry_of.end()) {
      return absl::InvalidArgumentError(Where(mapping_source, row.line, column) + ": unknown emoji short name '" +
                                        name + "' (not in " + emoji_dir + "/emoji.json)");
    }
    if (const auto [it, inserted] = used.emplace(found->second, std::make_pair(row.line, name)); !inserted) {
      return absl::InvalidArgumentError(Where(mapping_source, row.line, column) + ": emoji '" + name +
                                        "' is already listed on line " + std::to_string(it->second.first) + " (as '" +
                                        it->second.second + "'); each emoji may appear once in the table");
    }
    catalog.excluded_from_clutter_[static_cast<size_t>(found->second)] = true;
    return found->second;
  };

  const std::vector<Category>& categories = Coco2017Categories();
  catalog.coco_.resize(categories.size());
  for (size_t c = 0; c < categories.size(); ++c) catalog.coco_[c].category = categories[c];
  for (const MappingRow& row : rows) {
    const auto position = std::find_if(categories.begin(), categories.end(),
                                       [&](const Category& category) { return category.name == row.category; });
    CategoryEmoji& target = catalog.coco_[static_cast<size_t>(position - categories.begin())];
    target.exact = row.exact;
    target.note = row.note;
    for (const std::string& name : row.emoji) {
      ASSIGN_OR_RETURN(const int entry, lookup(row, name, "emoji"));
      const EmojiEntry& emoji = catalog.entries_[static_cast<size_t>(entry)];
      if (!emoji.has_noto || !emoji.has_twemoji) {
        return absl::InvalidArgumentError(Where(mapping_source, row.line, "emoji") + ": '" + name + "' has no " +
                                          (emoji.has_noto ? "Twemoji" : "Noto") + " image (emoji.json's has_img_" +
                                          (emoji.has_noto ? "twitter" : "google") + " is false)");
      }
      for (int a = 0; a < kNumArtworks; ++a) {
        const std::string path = catalog.ImagePath(entry, static_cast<Artwork>(a));
        if (!fs::is_regular_file(path, error)) {
          return absl::NotFoundError("missing " + std::string(ArtworkTitle(static_cast<Artwork>(a))) + " image " +
                                     path + " for '" + name + "' (" + mapping_source + ":" + std::to_string(row.line) +
                                     "); " + ReinstallHint(emoji_dir));
        }
      }
      target.emoji.push_back(entry);
    }
    for (const std::string& name : row.also_shows) {
      ASSIGN_OR_RETURN(const int entry, lookup(row, name, "also_shows"));
      (void)entry;
    }
  }
  return catalog;
}

std::string EmojiCatalog::ImagePath(int entry, Artwork artwork) const {
  return dir_ + "/" + ArtworkFolder(artwork) + "/" + entries_[static_cast<size_t>(entry)].image;
}

std::vector<int> EmojiCatalog::CocoClutter() const {
  std::vector<int> clutter;
  std::error_code error;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const EmojiEntry& entry = entries_[i];
    if (excluded_from_clutter_[i] || !InPretrainPool(entry) || entry.category == "People & Body") continue;
    // OpenMoji lacks a few emoji; those are simply not clutter (val images must be able to draw every clutter emoji).
    if (!fs::is_regular_file(ImagePath(static_cast<int>(i), Artwork::kOpenMoji), error)) continue;
    clutter.push_back(static_cast<int>(i));
  }
  std::stable_sort(clutter.begin(), clutter.end(), [&](int a, int b) {
    return entries_[static_cast<size_t>(a)].sort_order < entries_[static_cast<size_t>(b)].sort_order;
  });
  return clutter;
}

std::vector<int> EmojiCatalog::PretrainCandidates() const {
  std::vector<int> candidates;
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (InPretrainPool(entries_[i])) candidates.push_back(static_cast<int>(i));
  }
  std::stable_sort(candidates.begin(), candidates.end(), [&](int a, int b) {
    return entries_[static_cast<size_t>(a)].sort_order < entries_[static_cast<size_t>(b)].sort_order;
  });
  return candidates;
}

absl::StatusOr<std::vector<int>> EmojiCatalog::PretrainClasses(int count) const {
  const std::vector<int> candidates = PretrainCandidates();
  const int64_t available = static_cast<int64_t>(candidates.size());
  if (count < 2 || count > available) {
    return absl::InvalidArgumentError("the number of pretraining classes must be in [2, " + std::to_string(available) +
                                      "] (emoji outside Flags and Component with Noto and Twemoji images in " + dir_ +
                                      "/emoji.json), got " + std::to_string(count));
  }
  std::vector<int> classes;
  for (int64_t i = 0; i < count; ++i) classes.push_back(candidates[static_cast<size_t>(i * available / count)]);
  return classes;
}

std::vector<int> EmojiCatalog::PretrainClutter(const std::vector<int>& classes) const {
  const std::set<int> taken(classes.begin(), classes.end());
  std::vector<int> clutter;
  for (int entry : PretrainCandidates()) {
    if (taken.count(entry) == 0) clutter.push_back(entry);
  }
  return clutter;
}

std::string ResolveEmojiDir(const std::string& flag_value) {
  if (!flag_value.empty()) return flag_value;
  if (const char* env = std::getenv("COCO_MULTILABEL_EMOJI_DIR"); env != nullptr && *env != '\0') return env;
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  std::error_code error;
  const std::string root =
      workspace != nullptr && *workspace != '\0' ? std::string(workspace) : fs::current_path(error).string();
  return root + "/third_party/npm/emoji";
}

}  // namespace coco::data
