// What one picture of the emoji data sets shows, decided from its own random generator (a plan), and the picture
// drawn from a plan, with a record of every paste: which emoji, which artwork, where, and how much stays visible.
#ifndef DATA_EMOJI_EMOJI_SCENE_H_
#define DATA_EMOJI_EMOJI_SCENE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "data/emoji/emoji_catalog.h"
#include "data/emoji/emoji_compositor.h"
#include "data/emoji/emoji_random.h"
#include "data/emoji/emoji_sprite.h"

namespace coco::data {

struct SceneObject {
  int class_index = -1;  // -1: clutter (unlabelled)
  int entry = -1;        // emoji, an index into EmojiCatalog::entries()
  Artwork artwork = Artwork::kNoto;
  bool line_art = false;  // drawn as LineArtVariant of its artwork (emoji_sprite.h)
  PastePlan paste;
};

// Where RenderScene finds the sprite of (entry, artwork, line art) in its table.
inline size_t SpriteIndex(int entry, Artwork artwork, bool line_art) {
  return (static_cast<size_t>(entry) * kNumArtworks + static_cast<size_t>(artwork)) * 2 + (line_art ? 1 : 0);
}

struct ScenePlan {
  BackgroundPlan background;
  bool dark = false;
  double brightness = 1;
  std::vector<SceneObject> objects;  // in drawing order: larger first, so small objects are not hidden
};

// Which artwork a split draws from: Noto or Twemoji (a fair coin per object), or OpenMoji only.
enum class ArtworkChoice { kNotoOrTwemoji, kOpenMojiOnly };

struct CocoSceneConfig {
  int image_size = 128;
  std::vector<double> frequencies;            // per class: the fraction of images containing it
  std::vector<std::vector<int>> class_emoji;  // per class: the emoji drawn as it
  std::vector<int> clutter;                   // emoji that may be pasted unlabelled
  double instances_per_label = 1.3;
  int max_objects = 6;
  int max_clutter = 3;
  double dark_fraction = 0.06;
  double blur_fraction = 0.2;
  bool may_mirror = true;        // false where mirroring changes what an emoji means (arrows among the classes)
  double line_art_fraction = 0;  // Noto / Twemoji pastes drawn as line art (never OpenMoji ones)
};

// A multi-label picture: each class present with its frequency (at most max_objects classes: a random subset is
// kept beyond that), 1 + geometric instances of each up to max_objects pastes in all, 0..max_clutter clutter pastes
// (1..max_clutter when no class is present),
// placed so that no later, smaller paste covers more than about a third of an earlier labelled one.
ScenePlan PlanCocoScene(const CocoSceneConfig& config, ArtworkChoice artwork, EmojiRng& rng);

struct PretrainSceneConfig {
  int image_size = 128;
  std::vector<int> clutter;  // small emoji that may sit behind the one labelled
  // Per catalog entry, its subcategory (any numbering): clutter never shares the labelled emoji's, so no small
  // unlabelled smiley sits beside a labelled one.
  std::vector<int> subcategory;
  double dark_fraction = 0.06;
  double blur_fraction = 0.2;
};

// A single-label picture of `entry` (class `class_index`), 45-85% of the image side, unmirrored (arrows and other
// symbols would turn into each other), rotated by up to 20 degrees, over 0-2 clutter emoji of another subcategory,
// 12-25% of the side, half the time.
ScenePlan PlanPretrainScene(const PretrainSceneConfig& config, int class_index, int entry, EmojiRng& rng);

// One pasted emoji, as drawn.
struct PasteRecord {
  int class_index = -1;  // contiguous class of the JSON's categories; -1 for clutter
  int entry = -1;        // index into EmojiCatalog::entries()
  Artwork artwork = Artwork::kNoto;
  bool line_art = false;
  int x = 0, y = 0, width = 0, height = 0;  // tight box of its pixels with alpha >= 1/2 (the annotation's bbox)
  int64_t area = 0;                         // those pixels
  double visible_fraction = 0;              // of them, the share no later paste covers
};

struct RenderedScene {
  std::vector<uint8_t> rgb;         // image_size^2 x 3
  bool dark = false;                // the plan's
  std::vector<PasteRecord> pastes;  // in drawing order
};

// Draws `plan`. `sprites` holds SpriteIndex(entry, artwork, line_art); every sprite the plan names must be there.
RenderedScene RenderScene(const ScenePlan& plan, const std::vector<Sprite>& sprites, int image_size,
                          uint64_t noise_seed);

// The smallest visible_fraction among the labelled pastes (1 if there are none).
double MinLabelledVisibility(const RenderedScene& scene);

}  // namespace coco::data

#endif  // DATA_EMOJI_EMOJI_SCENE_H_
