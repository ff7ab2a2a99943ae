#include "data/emoji/emoji_scene.h"

#include <algorithm>
#include <cmath>

namespace coco::data {
namespace {

constexpr double kPi = 3.14159265358979323846;
// The artwork fills about this share of its square's side; placement and overlap estimates use this square.
constexpr double kContentShare = 0.8;
// A later paste may cover at most this share of an earlier labelled one (estimated on squares, before drawing).
constexpr double kMaxCovered = 0.35;
constexpr int kPlacementTries = 16;
// Draws of a pretraining picture's clutter until one from another subcategory than the labelled emoji's.
constexpr int kClutterTries = 64;

Rgb FromHsv(double hue_degrees, double saturation, double value) {
  const double h = std::fmod(hue_degrees + 360.0, 360.0) / 60.0;
  const double c = value * saturation;
  const double x = c * (1 - std::abs(std::fmod(h, 2.0) - 1));
  const double m = value - c;
  double r = 0, g = 0, b = 0;
  switch (static_cast<int>(h)) {
    case 0: r = c, g = x; break;
    case 1: r = x, g = c; break;
    case 2: g = c, b = x; break;
    case 3: g = x, b = c; break;
    case 4: r = x, b = c; break;
    default: r = c, b = x; break;
  }
  return {static_cast<float>((r + m) * 255), static_cast<float>((g + m) * 255), static_cast<float>((b + m) * 255)};
}

// Backgrounds: any hue, mostly muted so the emoji stand out, sometimes saturated; light to mid-dark.
BackgroundPlan PlanBackground(EmojiRng& rng) {
  BackgroundPlan plan;
  plan.kind = static_cast<BackgroundKind>(rng.Index(5));
  const double saturation_cap = rng.Bernoulli(0.25) ? 0.8 : 0.35;
  for (Rgb& color : plan.colors) {
    color = FromHsv(rng.Uniform(0, 360), rng.Uniform(0, saturation_cap), rng.Uniform(0.3, 0.95));
  }
  plan.direction = rng.Uniform(0, 2 * kPi);
  plan.focus_x = rng.Uniform(0.2, 0.8);
  plan.focus_y = rng.Uniform(0.2, 0.8);
  plan.noise_seed = rng.Next();
  return plan;
}

// Scale, rotation, mirroring, colour jitter and blur of one paste; its position is set by the caller.
PastePlan PlanLook(double side, double max_degrees, bool may_mirror, double blur_fraction, int image_size,
                   EmojiRng& rng) {
  PastePlan paste;
  paste.side = side;
  paste.angle = rng.Uniform(-max_degrees, max_degrees) * kPi / 180;
  paste.mirror = may_mirror && rng.Bernoulli(0.5);
  const double brightness = rng.Uniform(0.8, 1.2), contrast = rng.Uniform(0.8, 1.2);
  const double saturation = rng.Uniform(0.7, 1.3), hue = rng.Uniform(-10, 10);
  paste.colour = ColourTransform::Jitter(brightness, contrast, saturation, hue);
  if (rng.Bernoulli(blur_fraction)) paste.blur_sigma = rng.Uniform(0.4, 1.4) * image_size / 128.0;
  return paste;
}

// No draw from `rng` when `fraction` is 0, so sets without line art keep their pictures.
bool ChooseLineArt(double fraction, Artwork artwork, EmojiRng& rng) {
  return fraction > 0 && artwork != Artwork::kOpenMoji && rng.Bernoulli(fraction);
}

Artwork ChooseArtwork(ArtworkChoice choice, EmojiRng& rng) {
  if (choice == ArtworkChoice::kOpenMojiOnly) return Artwork::kOpenMoji;
  return rng.Bernoulli(0.5) ? Artwork::kNoto : Artwork::kTwemoji;
}

void PlanLighting(double dark_fraction, ScenePlan& plan, EmojiRng& rng) {
  plan.dark = rng.Bernoulli(dark_fraction);
  plan.brightness = plan.dark ? rng.Uniform(0.10, 0.25) : rng.Uniform(0.8, 1.15);
}

struct Square {
  double x0, y0, x1, y1;
  double Area() const { return (x1 - x0) * (y1 - y0); }
};

Square ContentOf(const PastePlan& paste) {
  const double half = paste.side * kContentShare / 2;
  return {paste.cx - half, paste.cy - half, paste.cx + half, paste.cy + half};
}

double Overlap(const Square& a, const Square& b) {
  const double w = std::min(a.x1, b.x1) - std::max(a.x0, b.x0), h = std::min(a.y1, b.y1) - std::max(a.y0, b.y0);
  return w > 0 && h > 0 ? w * h : 0;
}

// Positions the objects in drawing order: each tries random centres (its content may reach past the border by up to
// a fifth of its side) and keeps the first that leaves every earlier labelled object at most kMaxCovered covered,
// else the least harmful one.
void Place(std::vector<SceneObject>& objects, int image_size, EmojiRng& rng) {
  std::vector<double> covered(objects.size(), 0.0);
  for (size_t i = 0; i < objects.size(); ++i) {
    PastePlan& paste = objects[i].paste;
    const double inset = paste.side * (kContentShare / 2 - 0.2 * kContentShare);
    const double low = inset, high = image_size - inset;
    double best_x = image_size / 2.0, best_y = image_size / 2.0, best_worst = 1e9;
    for (int attempt = 0; attempt < kPlacementTries; ++attempt) {
      paste.cx = high > low ? rng.Uniform(low, high) : image_size / 2.0;
      paste.cy = high > low ? rng.Uniform(low, high) : image_size / 2.0;
      const Square square = ContentOf(paste);
      double worst = 0;
      for (size_t e = 0; e < i; ++e) {
        if (objects[e].class_index < 0) continue;
        const Square earlier = ContentOf(objects[e].paste);
        worst = std::max(worst, (covered[e] + Overlap(square, earlier)) / earlier.Area());
      }
      if (worst < best_worst) best_worst = worst, best_x = paste.cx, best_y = paste.cy;
      if (worst <= kMaxCovered) break;
    }
    paste.cx = best_x, paste.cy = best_y;
    const Square square = ContentOf(paste);
    for (size_t e = 0; e < i; ++e) covered[e] += Overlap(square, ContentOf(objects[e].paste));
  }
}

}  // namespace

ScenePlan PlanCocoScene(const CocoSceneConfig& config, ArtworkChoice artwork, EmojiRng& rng) {
  ScenePlan plan;
  plan.background = PlanBackground(rng);
  PlanLighting(config.dark_fraction, plan, rng);

  std::vector<int> labels;
  for (size_t c = 0; c < config.frequencies.size(); ++c) {
    if (rng.Bernoulli(config.frequencies[c])) labels.push_back(static_cast<int>(c));
  }
  if (static_cast<int>(labels.size()) > config.max_objects) {
    for (int i = 0; i < config.max_objects; ++i) {  // a partial Fisher-Yates shuffle picks which classes stay
      std::swap(labels[static_cast<size_t>(i)],
                labels[static_cast<size_t>(i + rng.Index(static_cast<int>(labels.size()) - i))]);
    }
    labels.resize(static_cast<size_t>(config.max_objects));
    std::sort(labels.begin(), labels.end());
  }
  std::vector<int> instances(labels.size(), 1);
  int total = static_cast<int>(labels.size());
  for (int& count : instances) {
    while (total < config.max_objects && !rng.Bernoulli(1.0 / config.instances_per_label)) ++count, ++total;
  }
  // Crowded pictures get smaller objects: the side shrinks with the square root of the count beyond two.
  const double crowding = total <= 2 ? 1.0 : std::sqrt(2.0 / total);
  for (size_t l = 0; l < labels.size(); ++l) {
    const std::vector<int>& emoji = config.class_emoji[static_cast<size_t>(labels[l])];
    const double first = rng.Uniform(0.3, 0.6) * crowding;
    for (int i = 0; i < instances[l]; ++i) {
      SceneObject object;
      object.class_index = labels[l];
      object.entry = emoji[static_cast<size_t>(rng.Index(static_cast<int>(emoji.size())))];
      object.artwork = ChooseArtwork(artwork, rng);
      object.line_art = ChooseLineArt(config.line_art_fraction, object.artwork, rng);
      const double side = (i == 0 ? first : std::max(0.15, first * rng.Uniform(0.6, 0.9))) * config.image_size;
      object.paste = PlanLook(side, 25, config.may_mirror, config.blur_fraction, config.image_size, rng);
      plan.objects.push_back(object);
    }
  }
  // A picture with no label still shows something: at least one clutter emoji (a negative, not a blank).
  const int clutter = config.clutter.empty() || config.max_clutter == 0 ? 0
                      : labels.empty()                                  ? 1 + rng.Index(config.max_clutter)
                                                                        : rng.Index(config.max_clutter + 1);
  for (int i = 0; i < clutter; ++i) {
    SceneObject object;
    object.entry = config.clutter[static_cast<size_t>(rng.Index(static_cast<int>(config.clutter.size())))];
    object.artwork = ChooseArtwork(artwork, rng);
    object.line_art = ChooseLineArt(config.line_art_fraction, object.artwork, rng);
    object.paste = PlanLook(rng.Uniform(0.15, 0.3) * config.image_size, 40, config.may_mirror, config.blur_fraction,
                            config.image_size, rng);
    plan.objects.push_back(object);
  }
  std::stable_sort(plan.objects.begin(), plan.objects.end(),
                   [](const SceneObject& a, const SceneObject& b) { return a.paste.side > b.paste.side; });
  Place(plan.objects, config.image_size, rng);
  return plan;
}

ScenePlan PlanPretrainScene(const PretrainSceneConfig& config, int class_index, int entry, EmojiRng& rng) {
  ScenePlan plan;
  plan.background = PlanBackground(rng);
  PlanLighting(config.dark_fraction, plan, rng);
  const double size = config.image_size;
  const int clutter = config.clutter.empty() || !rng.Bernoulli(0.5) ? 0 : 1 + rng.Index(2);
  int tries = 0;
  for (int i = 0; i < clutter; ++i) {  // behind the labelled emoji: drawn first, never covering it
    SceneObject object;
    do {
      object.entry = config.clutter[static_cast<size_t>(rng.Index(static_cast<int>(config.clutter.size())))];
    } while (config.subcategory[static_cast<size_t>(object.entry)] == config.subcategory[static_cast<size_t>(entry)] &&
             ++tries < kClutterTries);
    object.artwork = ChooseArtwork(ArtworkChoice::kNotoOrTwemoji, rng);
    object.paste = PlanLook(rng.Uniform(0.12, 0.25) * size, 40, /*may_mirror=*/false, config.blur_fraction,
                            config.image_size, rng);
    object.paste.cx = rng.Uniform(0, size);
    object.paste.cy = rng.Uniform(0, size);
    plan.objects.push_back(object);
  }
  SceneObject object;
  object.class_index = class_index;
  object.entry = entry;
  object.artwork = ChooseArtwork(ArtworkChoice::kNotoOrTwemoji, rng);
  object.paste =
      PlanLook(rng.Uniform(0.45, 0.85) * size, 20, /*may_mirror=*/false, config.blur_fraction, config.image_size, rng);
  const double slack = std::max(0.0, (size - object.paste.side * kContentShare) / 2);
  object.paste.cx = size / 2 + rng.Uniform(-slack, slack);
  object.paste.cy = size / 2 + rng.Uniform(-slack, slack);
  plan.objects.push_back(object);
  return plan;
}

RenderedScene RenderScene(const ScenePlan& plan, const std::vector<Sprite>& sprites, int image_size,
                          uint64_t noise_seed) {
  Canvas canvas(image_size, image_size);
  PaintBackground(plan.background, canvas);
  RenderedScene scene;
  scene.dark = plan.dark;
  for (size_t i = 0; i < plan.objects.size(); ++i) {
    const SceneObject& object = plan.objects[i];
    const Sprite& sprite = sprites[SpriteIndex(object.entry, object.artwork, object.line_art)];
    const PastedBox box = Paste(sprite, object.paste, static_cast<int16_t>(i), canvas);
    PasteRecord record;
    record.class_index = object.class_index;
    record.entry = object.entry;
    record.artwork = object.artwork;
    record.line_art = object.line_art;
    record.x = box.x0, record.y = box.y0, record.width = box.x1 - box.x0, record.height = box.y1 - box.y0;
    record.area = box.opaque_pixels;
    scene.pastes.push_back(record);
  }
  const std::vector<int64_t> visible = VisiblePixels(canvas, static_cast<int>(plan.objects.size()));
  for (size_t i = 0; i < scene.pastes.size(); ++i) {
    PasteRecord& record = scene.pastes[i];
    record.visible_fraction = record.area > 0 ? static_cast<double>(visible[i]) / static_cast<double>(record.area) : 0;
  }
  scene.rgb = FinishRgb(canvas, plan.brightness, 4.0, noise_seed);
  return scene;
}

double MinLabelledVisibility(const RenderedScene& scene) {
  double lowest = 1;
  for (const PasteRecord& paste : scene.pastes) {
    if (paste.class_index >= 0) lowest = std::min(lowest, paste.visible_fraction);
  }
  return lowest;
}

}  // namespace coco::data
