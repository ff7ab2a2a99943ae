// The emoji artwork on disk (emoji.json and three sets of 64 px PNGs that tools/setup.sh installs) and the reviewed
// table that maps each COCO 2017 category to emoji (coco_emoji.tsv): read, cross-checked, and indexed for the
// generators in emoji_coco.h.
#ifndef DATA_EMOJI_EMOJI_CATALOG_H_
#define DATA_EMOJI_EMOJI_CATALOG_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "data/coco/coco_dataset.h"

namespace coco::data {

// The three artwork sets, each a folder of PNGs named by emoji.json's `image` field.
enum class Artwork { kNoto = 0, kTwemoji = 1, kOpenMoji = 2 };
inline constexpr int kNumArtworks = 3;
const char* ArtworkFolder(Artwork artwork);  // "google", "twitter", "openmoji"
const char* ArtworkName(Artwork artwork);    // "noto", "twemoji", "openmoji" (as the JSON's "artwork" field)
const char* ArtworkTitle(Artwork artwork);   // "Noto", "Twemoji", "OpenMoji" (in messages)

// One base entry of emoji.json (skin-tone variants are ignored: they stay under `skin_variations`).
struct EmojiEntry {
  std::string unified;  // "1F415"
  std::string image;    // "1f415.png"
  std::string short_name;
  std::vector<std::string> short_names;
  std::string category;  // "Animals & Nature"
  std::string subcategory;
  int64_t sort_order = 0;
  bool has_noto = false;     // has_img_google
  bool has_twemoji = false;  // has_img_twitter
};

// Reads emoji.json. Errors name the file and the entry (index and `unified`) and field that is missing or mistyped.
absl::StatusOr<std::vector<EmojiEntry>> ReadEmojiJson(const std::string& path);

// One row of the mapping table, as written (names not yet looked up).
struct MappingRow {
  int line = 0;  // 1-based, in `source`
  std::string category;
  std::vector<std::string> emoji;       // drawn as this category
  bool exact = true;                    // "exact" or "approximate"
  std::vector<std::string> also_shows;  // show the object but are not drawn as it: never clutter
  std::string note;
};

// Parses the table's text: '#' comment lines, then the header "category emoji match also_shows note" and one row per
// category (tab-separated; trailing empty columns may be left off). Errors name `source`, the line and the column:
// an unknown or repeated COCO category, an empty emoji list, a match other than exact|approximate, an approximate
// row without a note, and, after the last line, every COCO category that has no row.
absl::StatusOr<std::vector<MappingRow>> ParseMappingTable(std::string_view text, const std::string& source);

// The reviewed table, data/emoji/coco_emoji.tsv, compiled into the binary (BUILD's genrule) so no run-time path is
// needed; kDefaultMappingSource names it in messages.
std::string_view DefaultMappingTable();
inline constexpr char kDefaultMappingSource[] = "data/emoji/coco_emoji.tsv";

// A COCO category and the emoji drawn as it.
struct CategoryEmoji {
  Category category;       // COCO's id, name and supercategory
  std::vector<int> emoji;  // indices into EmojiCatalog::entries()
  bool exact = true;
  std::string note;
};

class EmojiCatalog {
 public:
  // Reads `emoji_dir`/emoji.json and the table, and checks that every short name in the table exists in emoji.json,
  // appears once in the whole table, and that each emoji drawn for a category has its Noto, Twemoji and OpenMoji
  // PNG on disk. Errors say which file (and for the table which line and column) and, for missing artwork, to run
  // `bash tools/setup.sh`.
  static absl::StatusOr<EmojiCatalog> Load(const std::string& emoji_dir, std::string_view mapping_text,
                                           const std::string& mapping_source);

  const std::string& dir() const { return dir_; }
  const std::vector<EmojiEntry>& entries() const { return entries_; }
  // The 80 COCO categories in contiguous class order (Coco2017Categories()).
  const std::vector<CategoryEmoji>& coco() const { return coco_; }
  // `dir`/<folder>/<image>.
  std::string ImagePath(int entry, Artwork artwork) const;

  // Clutter for the COCO-80 set: emoji that show no COCO object, in emoji.json's sort order. That is every entry with
  // all three images on disk, outside Flags, Component and People & Body (no clutter may show a person), neither
  // drawn for a category nor listed in any row's also_shows.
  std::vector<int> CocoClutter() const;

  // The pretraining classes: of the entries outside Flags and Component that emoji.json says have a Noto and a
  // Twemoji image (1,636 in emoji-datasource 16.0.0), sorted by sort_order, the `count` at positions
  // floor(i * available / count), i = 0..count-1: evenly spread over every category, the same on every machine.
  absl::StatusOr<std::vector<int>> PretrainClasses(int count) const;
  // Clutter for the pretraining set: the candidates above that are not classes, in sort order.
  std::vector<int> PretrainClutter(const std::vector<int>& classes) const;

 private:
  std::vector<int> PretrainCandidates() const;

  std::string dir_;
  std::vector<EmojiEntry> entries_;
  std::vector<CategoryEmoji> coco_;
  std::vector<bool> excluded_from_clutter_;  // per entry: drawn for a category or in an also_shows list
};

// The artwork folder: `flag_value` if not empty, else $COCO_MULTILABEL_EMOJI_DIR, else
// <workspace>/third_party/npm/emoji with the workspace from $BUILD_WORKSPACE_DIRECTORY (set by `bazel run`), else
// the current directory.
std::string ResolveEmojiDir(const std::string& flag_value);

// The message part every missing- or damaged-artwork error ends with.
std::string ReinstallHint(const std::string& emoji_dir);

}  // namespace coco::data

#endif  // DATA_EMOJI_EMOJI_CATALOG_H_
