// Three COCO-format data sets drawn from real emoji artwork (emoji_catalog.h), offline and deterministically:
//
// - kCoco80: multi-label pictures of the 80 COCO 2017 categories, in COCO 2017's layout and ids. Each image is a
//   background with 0-`max_objects` emoji of COCO categories (drawn per coco_emoji.tsv) with COCO's class
//   frequencies (the rank curve of data/synthetic/synthetic_coco.h: person in half the images), plus unlabelled
//   clutter emoji that show no COCO object. Train images paste Noto or Twemoji artwork (chosen per object), val
//   images OpenMoji artwork only, so val measures transfer to an unseen drawing style.
// - kPretrain: single-label classification over `classes` emoji (EmojiCatalog::PretrainClasses), one emoji per
//   image in Noto or Twemoji, `train_per_class` and `val_per_class` fresh composites per class.
// - kPretrainMultiLabel: multi-label pictures over `classes` emoji (the same classes as kPretrain), laid out as the
//   COCO-80 pictures are (1 + geometric instances of each present class, crowded pictures with smaller objects), each
//   class present in `labels_per_image` / `classes` of the images, unmirrored; train and val both in Noto or Twemoji.
//   The pretraining counterpart of kCoco80: many small emoji per picture, as the COCO-80 set shows them.
//
// Every pasted object is scaled, rotated, maybe mirrored, colour-jittered and sometimes blurred; objects overlap;
// some images are dark. The result records what was pasted where, with which artwork; the JSON holds exactly the
// labelled pastes. The output depends only on the options other than `threads` and `progress_every`.
#ifndef DATA_EMOJI_EMOJI_COCO_H_
#define DATA_EMOJI_EMOJI_COCO_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/coco/coco_dataset.h"
#include "data/emoji/emoji_catalog.h"
#include "data/emoji/emoji_scene.h"
#include "data/synthetic/synthetic_coco.h"

namespace coco::data {

// Bumped whenever the pictures or annotations for given options change (a cache keyed by it must regenerate).
inline constexpr int kEmojiCocoVersion = 1;

enum class EmojiSet { kCoco80, kPretrain, kPretrainMultiLabel };

struct EmojiCocoOptions {
  EmojiSet set = EmojiSet::kCoco80;
  std::string out_dir;  // created whole or not at all (written to `out_dir`.partial, then renamed)
  // COCO 2017's folders, or another layout of data/synthetic's (written as COCO 2017's, then re-laid out by
  // RelayoutCoco2017Folder before the rename); README.txt stays at the top.
  SyntheticLayout layout = SyntheticLayout::kCoco2017;
  std::string emoji_dir;  // the artwork (ResolveEmojiDir)
  // The mapping table's text and a name for messages; empty text: the compiled-in data/emoji/coco_emoji.tsv.
  std::string mapping_text;
  std::string mapping_source;
  uint64_t seed = 1;
  int image_size = 128;  // square images, pixels
  int jpeg_quality = 90;
  // kCoco80 and kPretrainMultiLabel.
  int64_t train_images = 2000;
  int64_t val_images = 500;
  double labels_per_image = 2.9;     // expected distinct categories per image (before the max_objects cap)
  double instances_per_label = 1.3;  // mean instances of a present category (1 + geometric)
  int max_objects = 6;               // labelled pastes per image at most
  // kCoco80.
  double person_fraction = 0.5;
  double rarest_fraction = 0.003;
  int max_clutter = 3;  // unlabelled clutter pastes: uniform in [0, max_clutter] ([1, ..] if no label)
  // kPretrain and kPretrainMultiLabel.
  int classes = 1000;
  // kPretrain.
  int64_t train_per_class = 50;
  int64_t val_per_class = 10;
  // kCoco80 and kPretrainMultiLabel: Noto / Twemoji pastes drawn as line art (LineArtVariant, emoji_sprite.h); 0
  // leaves the pictures exactly as without it.
  double line_art_fraction = 0;
  // Every set.
  double dark_fraction = 0.06;  // images whose brightness is scaled to 10-25%
  double blur_fraction = 0.2;   // pastes blurred (Gaussian, sigma 0.4-1.4 px at 128 px, in proportion above)
  int threads = 0;              // 0: one per core
  int64_t progress_every = 0;   // log a line every this many images (0: never)
};

struct ImageRecord {
  int64_t id = 0;
  std::string file_name;  // relative to the split's image folder
  bool dark = false;
  std::vector<PasteRecord> pastes;  // in drawing order
};

struct SplitRecord {
  std::string name;  // "train2017"
  std::vector<ImageRecord> images;
};

struct EmojiCocoResult {
  std::string out_dir;
  std::vector<Category> categories;  // as in the JSON, in contiguous class order
  std::vector<SplitRecord> splits;
  std::string ToString() const;  // per split: images, annotations, labels, person, dark, clutter, artwork counts
};

// Writes the set into options.out_dir: annotations/instances_{train,val}2017.json, train2017/ and val2017/ JPEGs
// (or the same in options.layout), and README.txt (generator, version, options, artwork attribution). An existing
// out_dir is replaced only if its README.txt says this generator wrote it. A failure leaves out_dir as it was (absent,
// or the older set) and no out_dir.partial; its error names the file at fault: a missing emoji folder, emoji.json or
// image file, or a PNG that does not decode, with the advice to run `bash tools/setup.sh`.
absl::StatusOr<EmojiCocoResult> WriteEmojiCoco(const EmojiCocoOptions& options);

}  // namespace coco::data

#endif  // DATA_EMOJI_EMOJI_COCO_H_
