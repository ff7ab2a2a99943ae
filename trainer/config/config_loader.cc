#include "trainer/config/config_loader.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "losses/class_weights.h"
#include "losses/loss_builder.h"
#include "tools/cc/status_macros.h"

namespace trainer {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using google::protobuf::TextFormat;

// Collects the parser's errors as "<source>:<line>:<column>: message" (1-based, as editors count).
class CollectingErrors : public google::protobuf::io::ErrorCollector {
 public:
  explicit CollectingErrors(std::string source) : source_(std::move(source)) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column, const std::string& message) override {
    if (!text_.empty()) text_ += "\n";
    absl::StrAppend(&text_, source_, ":", line + 1, ":", column + 1, ": ", message);
  }
  void AddWarning(int line, google::protobuf::io::ColumnNumber column, const std::string& message) override {
    AddError(line, column, "warning: " + message);
  }
  const std::string& text() const { return text_; }

 private:
  std::string source_;
  std::string text_;
};

struct Layer {
  std::string source;
  TrainConfig config;
  std::unique_ptr<TextFormat::ParseInfoTree> locations;
};

absl::StatusOr<Layer> ParseLayer(const std::string& text, const std::string& source) {
  Layer layer;
  layer.source = source;
  layer.locations = std::make_unique<TextFormat::ParseInfoTree>();
  CollectingErrors errors(source);
  TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  parser.WriteLocationsTo(layer.locations.get());
  if (!parser.ParseFromString(text, &layer.config)) {
    return absl::InvalidArgumentError(errors.text().empty() ? source + ": cannot parse" : errors.text());
  }
  return layer;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot read config file '" + path + "'");
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(path);
  while (std::getline(in, part, '.')) parts.push_back(part);
  return parts;
}

// "file:line" of the last layer that sets `field_path`, or "" when no layer does (the schema default applies).
std::string LocateInLayers(const std::vector<Layer>& layers, const std::string& field_path) {
  const std::vector<std::string> parts = SplitPath(field_path);
  for (auto layer = layers.rbegin(); layer != layers.rend(); ++layer) {
    const Message* message = &layer->config;
    const TextFormat::ParseInfoTree* tree = layer->locations.get();
    for (size_t i = 0; i < parts.size() && message != nullptr && tree != nullptr; ++i) {
      // "std[1]": element 1 of a repeated field; a repeated field without an index stands for its first element.
      const size_t bracket = parts[i].find('[');
      const FieldDescriptor* field = message->GetDescriptor()->FindFieldByName(parts[i].substr(0, bracket));
      if (field == nullptr) break;
      const int element = bracket == std::string::npos ? 0 : std::atoi(parts[i].c_str() + bracket + 1);
      const Reflection* reflection = message->GetReflection();
      const bool present = field->is_repeated() ? reflection->FieldSize(*message, field) > element
                                                : reflection->HasField(*message, field);
      if (!present) break;
      const int index = field->is_repeated() ? element : -1;
      if (i + 1 == parts.size()) {
        // A list ("std: [1, 0, 1]") records one location, at its first element.
        TextFormat::ParseLocation location = tree->GetLocation(field, index);
        for (int earlier = index - 1; location.line < 0 && earlier >= 0; --earlier) {
          location = tree->GetLocation(field, earlier);
        }
        if (location.line < 0) break;
        return absl::StrCat(layer->source, ":", location.line + 1);
      }
      if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) break;
      message = field->is_repeated() ? &reflection->GetRepeatedMessage(*message, field, element)
                                     : &reflection->GetMessage(*message, field);
      tree = tree->GetTreeForNested(field, index);
    }
  }
  return "";
}

// The loss fields are range-checked by losses::BuildLoss itself. Building the loss once here, with stand-in label
// counts, puts the file and line of the offending field on its message ("focal.gamma must be >= 0, got -1").
absl::Status CheckLossFields(const TrainConfig& config, const std::vector<Layer>& layers) {
  const losses::LossConfig& loss = config.loss();
  int64_t classes = config.model().num_classes() > 0 ? config.model().num_classes() : 80;
  if (config.model().num_classes() == 0 && loss.has_bce() && loss.bce().pos_weight_size() > 0) {
    classes = loss.bce().pos_weight_size();  // the dataset decides later; here only the values are checked
  }
  losses::LabelCounts counts;
  counts.num_samples = 2;
  counts.positives.assign(static_cast<size_t>(classes), 1);
  const absl::StatusOr<torch::nn::AnyModule> built = losses::BuildLoss(loss, counts);
  if (built.ok()) return absl::OkStatus();
  const std::string message(built.status().message());
  std::string field = message.substr(0, message.find(' '));
  field = field.substr(0, field.find('['));
  std::string where = LocateInLayers(layers, "loss." + field);
  if (where.empty()) where = LocateInLayers(layers, "loss");
  return absl::InvalidArgumentError((where.empty() ? "(schema default)" : where) + ": loss." + message);
}

absl::Status ClearFieldPath(Message& root, const std::string& path, const std::string& source) {
  const std::vector<std::string> parts = SplitPath(path);
  // Check the whole path against the schema first, so a typo is an error even where nothing is set yet.
  std::vector<const FieldDescriptor*> fields;
  const Descriptor* descriptor = root.GetDescriptor();
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* field = descriptor == nullptr ? nullptr : descriptor->FindFieldByName(parts[i]);
    if (field == nullptr) {
      return absl::InvalidArgumentError(source + ": clear: \"" + path + "\": " +
                                        (descriptor == nullptr ? std::string("a scalar") : descriptor->full_name()) +
                                        " has no field named \"" + parts[i] + "\"");
    }
    if (i + 1 < parts.size() && (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || field->is_repeated())) {
      return absl::InvalidArgumentError(source + ": clear: \"" + path + "\": \"" + parts[i] +
                                        "\" is not a singular message field");
    }
    fields.push_back(field);
    descriptor = field->message_type();
  }
  Message* message = &root;
  for (size_t i = 0; i + 1 < fields.size(); ++i) {
    if (!message->GetReflection()->HasField(*message, fields[i])) return absl::OkStatus();
    message = message->GetReflection()->MutableMessage(message, fields[i]);
  }
  message->GetReflection()->ClearField(message, fields.back());
  return absl::OkStatus();
}

// The member each oneof takes when a config sets none of them.
const std::map<std::string, std::string>& DefaultOneofMembers() {
  static const auto* members = new std::map<std::string, std::string>{
      {"trainer.ModelConfig.arch", "mobilenet_v2"},
      {"trainer.DataConfig.source", "synthetic"},
      {"trainer.OptimizerConfig.optimizer", "sgd"},
      {"trainer.ScheduleConfig.schedule", "cosine"},
      {"losses.LossConfig.loss", "bce"},
  };
  return *members;
}

// Sections created (with their defaults) even when no layer mentions them; other absent messages stay absent.
const std::set<std::string>& AlwaysPresent() {
  static const auto* fields = new std::set<std::string>{
      "trainer.TrainConfig.model",       "trainer.TrainConfig.data",     "trainer.TrainConfig.loss",
      "trainer.TrainConfig.optimizer",   "trainer.TrainConfig.schedule", "trainer.TrainConfig.training",
      "trainer.TrainConfig.fine_tune",   "trainer.TrainConfig.output",   "trainer.TrainConfig.metrics",
      "trainer.DataConfig.augmentation",
  };
  return *fields;
}

void FillMessageDefaults(Message* message) {
  const Descriptor* descriptor = message->GetDescriptor();
  const Reflection* reflection = message->GetReflection();
  for (int i = 0; i < descriptor->oneof_decl_count(); ++i) {
    const auto* oneof = descriptor->oneof_decl(i);
    if (reflection->HasOneof(*message, oneof)) continue;
    const auto member = DefaultOneofMembers().find(oneof->full_name());
    if (member == DefaultOneofMembers().end()) continue;
    reflection->MutableMessage(message, descriptor->FindFieldByName(member->second));
  }
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (field->is_repeated()) {
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        for (int j = 0; j < reflection->FieldSize(*message, field); ++j) {
          FillMessageDefaults(reflection->MutableRepeatedMessage(message, field, j));
        }
      }
      continue;
    }
    if (field->containing_oneof() != nullptr && !reflection->HasField(*message, field)) continue;
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      // Absent optional messages stay absent where presence means something (optimizer.ema, class_balanced).
      if (reflection->HasField(*message, field) || AlwaysPresent().count(field->full_name())) {
        FillMessageDefaults(reflection->MutableMessage(message, field));
      }
      continue;
    }
    if (reflection->HasField(*message, field)) continue;
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32: reflection->SetInt32(message, field, field->default_value_int32()); break;
      case FieldDescriptor::CPPTYPE_INT64: reflection->SetInt64(message, field, field->default_value_int64()); break;
      case FieldDescriptor::CPPTYPE_UINT32: reflection->SetUInt32(message, field, field->default_value_uint32()); break;
      case FieldDescriptor::CPPTYPE_UINT64: reflection->SetUInt64(message, field, field->default_value_uint64()); break;
      case FieldDescriptor::CPPTYPE_DOUBLE: reflection->SetDouble(message, field, field->default_value_double()); break;
      case FieldDescriptor::CPPTYPE_FLOAT: reflection->SetFloat(message, field, field->default_value_float()); break;
      case FieldDescriptor::CPPTYPE_BOOL: reflection->SetBool(message, field, field->default_value_bool()); break;
      case FieldDescriptor::CPPTYPE_ENUM: reflection->SetEnum(message, field, field->default_value_enum()); break;
      case FieldDescriptor::CPPTYPE_STRING: reflection->SetString(message, field, field->default_value_string()); break;
      case FieldDescriptor::CPPTYPE_MESSAGE: break;
    }
  }
}

std::string Hash64Hex(const std::string& text) {
  uint64_t hash = 1469598103934665603ULL;  // FNV-1a offset basis
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return absl::StrFormat("%016x", hash);
}

std::string BaseName(const std::string& path) {
  std::string name = path.substr(path.find_last_of('/') + 1);
  const std::string suffix = ".pbtxt";
  if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
    name.resize(name.size() - suffix.size());
  }
  return name;
}

// ---- validation ----

struct Violation {
  std::string field;
  std::string message;
};

class Checker {
 public:
  template <typename T>
  void InRange(const std::string& field, T value, T low, T high, bool low_open = false, bool high_open = false) {
    if (violation_) return;
    const bool ok = (low_open ? value > low : value >= low) && (high_open ? value < high : value <= high);
    if (ok) return;
    std::ostringstream message;
    message << field << " must be in " << (low_open ? "(" : "[") << low << ", " << high << (high_open ? ")" : "]")
            << ", got " << value;
    violation_ = Violation{field, message.str()};
  }
  template <typename T>
  void AtLeast(const std::string& field, T value, T low, bool open = false) {
    if (violation_) return;
    if (open ? value > low : value >= low) return;
    std::ostringstream message;
    message << field << " must be " << (open ? "> " : ">= ") << low << ", got " << value;
    violation_ = Violation{field, message.str()};
  }
  void Require(const std::string& field, bool ok, const std::string& message) {
    if (!violation_ && !ok) violation_ = Violation{field, field + " " + message};
  }
  const std::optional<Violation>& violation() const { return violation_; }

 private:
  std::optional<Violation> violation_;
};

std::optional<Violation> FindViolation(const TrainConfig& config) {
  Checker check;
  const ModelConfig& model = config.model();
  check.InRange("model.width_mult", model.width_mult(), 0.0, 4.0, /*low_open=*/true);
  check.Require("model.output_stride",
                model.output_stride() == 8 || model.output_stride() == 16 || model.output_stride() == 32,
                absl::StrCat("must be 8, 16 or 32, got ", model.output_stride()));
  check.InRange("model.dropout", model.dropout(), 0.0, 1.0, false, /*high_open=*/true);
  check.InRange("model.max_pool_weight", model.max_pool_weight(), 0.0, 100.0);
  check.AtLeast("model.num_classes", model.num_classes(), 0);

  const DataConfig& data = config.data();
  if (data.has_synthetic()) {
    check.AtLeast<int64_t>("data.synthetic.train_images", data.synthetic().train_images(), 1);
    check.AtLeast<int64_t>("data.synthetic.val_images", data.synthetic().val_images(), 1);
    check.InRange("data.synthetic.image_size", data.synthetic().image_size(), 16, 1024);
  } else if (data.has_emoji()) {
    const EmojiDataConfig& emoji = data.emoji();
    check.InRange("data.emoji.image_size", emoji.image_size(), 16, 1024);
    check.AtLeast<int64_t>("data.emoji.train_images", emoji.train_images(), 1);
    check.AtLeast<int64_t>("data.emoji.val_images", emoji.val_images(), 1);
    check.AtLeast("data.emoji.classes", emoji.classes(), 2);
    check.AtLeast<int64_t>("data.emoji.train_per_class", emoji.train_per_class(), 1);
    check.AtLeast<int64_t>("data.emoji.val_per_class", emoji.val_per_class(), 1);
    check.InRange("data.emoji.line_art_fraction", emoji.line_art_fraction(), 0.0, 1.0);
    check.Require("data.emoji.line_art_fraction",
                  emoji.set() != EmojiDataConfig::PRETRAIN || emoji.line_art_fraction() == 0,
                  "applies to COCO80 and PRETRAIN_MULTILABEL only");
  } else {
    check.Require("data.coco.train_split", !data.coco().train_split().empty(), "must not be empty");
    check.Require("data.coco.val_split", !data.coco().val_split().empty(), "must not be empty");
  }
  check.Require("data.train", data.train_size() > 0 || data.val_size() == 0,
                "is empty but data.val is set: give both (--train=... and --val=...)");
  check.Require("data.val", data.val_size() > 0 || data.train_size() == 0,
                "is empty but data.train is set: give both (--train=... and --val=...)");
  for (int split = 0; split < 2; ++split) {
    const auto& sources = split == 0 ? data.train() : data.val();
    for (int i = 0; i < sources.size(); ++i) {
      const std::string field = absl::StrCat(split == 0 ? "data.train" : "data.val", "[", i, "]");
      check.Require(field + ".annotations", !sources[i].annotations().empty(), "must name a COCO instances JSON");
      check.AtLeast(field + ".weight", sources[i].weight(), 0.0, /*open=*/true);
    }
  }
  const LabelSpaceConfig& space = data.label_space();
  check.Require("data.label_space.list_file", space.kind() != LabelSpaceConfig::LIST || !space.list_file().empty(),
                "must be set when kind is LIST");
  for (int i = 0; i < space.alias_size(); ++i) {
    const std::string& alias = space.alias(i);
    const size_t equals = alias.find('=');
    check.Require(absl::StrCat("data.label_space.alias[", i, "]"),
                  equals != std::string::npos && equals > 0 && equals + 1 < alias.size(),
                  "must be \"old name=new name\", got \"" + alias + "\"");
  }
  check.InRange("data.sampling.repeat_factor_threshold", data.sampling().repeat_factor_threshold(), 0.0, 1.0);
  check.InRange("data.resolution", data.resolution(), 16, 1024);
  const AugmentationConfig& augmentation = data.augmentation();
  check.InRange("data.augmentation.min_crop_area", augmentation.min_crop_area(), 0.0, 1.0, true);
  check.InRange("data.augmentation.max_crop_area", augmentation.max_crop_area(), augmentation.min_crop_area(), 1.0);
  check.InRange("data.augmentation.flip_probability", augmentation.flip_probability(), 0.0, 1.0);
  check.InRange("data.augmentation.center_crop_fraction", augmentation.center_crop_fraction(), 0.0, 1.0, true);
  check.AtLeast("data.augmentation.min_aspect_ratio", augmentation.min_aspect_ratio(), 0.0, /*open=*/true);
  check.AtLeast("data.augmentation.max_aspect_ratio", augmentation.max_aspect_ratio(), augmentation.min_aspect_ratio());
  const ErasingConfig& erasing = augmentation.erasing();
  check.InRange("data.augmentation.erasing.probability", erasing.probability(), 0.0, 1.0);
  check.InRange("data.augmentation.erasing.area_min", erasing.area_min(), 0.0, 1.0, /*low_open=*/true);
  check.InRange("data.augmentation.erasing.area_max", erasing.area_max(), erasing.area_min(), 1.0);
  check.AtLeast("data.augmentation.erasing.ratio_min", erasing.ratio_min(), 0.0, /*open=*/true);
  check.AtLeast("data.augmentation.erasing.ratio_max", erasing.ratio_max(), erasing.ratio_min());
  const RandAugmentConfig& rand_augment = augmentation.rand_augment();
  check.AtLeast("data.augmentation.rand_augment.num_ops", rand_augment.num_ops(), 0);
  check.InRange("data.augmentation.rand_augment.magnitude", rand_augment.magnitude(), 0, 30);
  check.Require("data.augmentation.rand_augment.fill", rand_augment.fill_size() == 0 || rand_augment.fill_size() == 3,
                absl::StrCat("must have 3 values (R G B) or none, got ", rand_augment.fill_size()));
  for (int i = 0; i < rand_augment.fill_size(); ++i) {
    check.InRange(absl::StrCat("data.augmentation.rand_augment.fill[", i, "]"), rand_augment.fill(i), 0, 255);
  }
  const std::pair<std::string, const MixConfig*> mixes[] = {{"mixup", &augmentation.mixup()},
                                                            {"cutmix", &augmentation.cutmix()}};
  for (const auto& [name, mix] : mixes) {
    check.AtLeast("data.augmentation." + name + ".alpha", mix->alpha(), 0.0, /*open=*/true);
    check.InRange("data.augmentation." + name + ".probability", mix->probability(), 0.0, 1.0);
  }
  const double mix_probability = augmentation.mixup().probability() + augmentation.cutmix().probability();
  check.Require("data.augmentation.cutmix.probability", mix_probability <= 1.0,
                absl::StrFormat("+ data.augmentation.mixup.probability must be <= 1 (one draw picks at most one), "
                                "got %g",
                                mix_probability));
  // Mixed targets hold fractions; softmax cross-entropy counts every target > 0 as a positive and refuses a row
  // with two, as a mixed row from two single-label rows is.
  check.Require("data.augmentation.mixup", !(config.loss().has_softmax_cross_entropy() && mix_probability > 0),
                "and cutmix need a loss that takes soft targets (bce, focal, asymmetric, poly, ...), not "
                "softmax_cross_entropy");
  check.InRange("data.loader_threads", data.loader_threads(), 1, 64);
  check.AtLeast<int64_t>("data.max_train_images", data.max_train_images(), 0);
  check.InRange<int64_t>("data.max_image_pixels", data.max_image_pixels(), 1, int64_t{1} << 40);
  check.AtLeast<int64_t>("data.max_val_images", data.max_val_images(), 0);
  check.InRange("data.calibration_fraction", data.calibration_fraction(), 0.0, 0.5);
  check.AtLeast<int64_t>("data.calibration_min_positives", data.calibration_min_positives(), 0);
  check.InRange("data.calibration_shrinkage", data.calibration_shrinkage(), 0.0, 1e6);
  const NormalizationConfig& normalization = data.normalization();
  for (const char* name : {"mean", "std"}) {
    const auto& values = std::string(name) == "mean" ? normalization.mean() : normalization.std();
    const std::string field = std::string("data.normalization.") + name;
    check.Require(
        field, values.empty() || values.size() == 3,
        absl::StrCat("must have 3 values (R, G, B) or none (ImageNet's), got ", values.size(),
                     values.size() > 3 ? " (a later layer appends to it: clear: \"data.normalization\" first)" : ""));
    for (int c = 0; c < values.size(); ++c) {
      const std::string element = absl::StrCat(field, "[", c, "]");
      if (std::string(name) == "std") {
        check.AtLeast(element, values[c], 0.0, /*open=*/true);
      } else {
        check.Require(element, std::isfinite(values[c]), absl::StrFormat("must be finite, got %f", values[c]));
      }
    }
  }

  const OptimizerConfig& optimizer = config.optimizer();
  if (optimizer.has_sgd()) {
    check.InRange("optimizer.sgd.momentum", optimizer.sgd().momentum(), 0.0, 1.0, false, true);
    check.Require("optimizer.sgd.nesterov", !optimizer.sgd().nesterov() || optimizer.sgd().momentum() > 0,
                  "requires optimizer.sgd.momentum > 0");
  } else if (optimizer.has_rmsprop()) {
    const RmspropConfig& rmsprop = optimizer.rmsprop();
    check.InRange("optimizer.rmsprop.alpha", rmsprop.alpha(), 0.0, 1.0, false, /*high_open=*/true);
    check.AtLeast("optimizer.rmsprop.eps", rmsprop.eps(), 0.0, /*open=*/true);
    check.AtLeast("optimizer.rmsprop.momentum", rmsprop.momentum(), 0.0);
  } else {
    const AdamConfig& adam = optimizer.has_adam() ? optimizer.adam() : optimizer.adamw();
    const std::string prefix = optimizer.has_adam() ? "optimizer.adam." : "optimizer.adamw.";
    check.InRange(prefix + "beta1", adam.beta1(), 0.0, 1.0, false, true);
    check.InRange(prefix + "beta2", adam.beta2(), 0.0, 1.0, false, true);
    check.AtLeast(prefix + "epsilon", adam.epsilon(), 0.0, /*open=*/true);
  }
  check.AtLeast("optimizer.learning_rate", optimizer.learning_rate(), 0.0, true);
  check.AtLeast("optimizer.weight_decay", optimizer.weight_decay(), 0.0);
  check.AtLeast("optimizer.clip_grad_norm", optimizer.clip_grad_norm(), 0.0);
  if (optimizer.has_ema()) check.InRange("optimizer.ema.decay", optimizer.ema().decay(), 0.0, 1.0, false, true);

  const ScheduleConfig& schedule = config.schedule();
  if (schedule.has_step()) {
    int previous = 0;
    for (int milestone : schedule.step().milestone_epochs()) {
      check.Require("schedule.step.milestone_epochs", milestone > previous,
                    absl::StrCat("must be increasing and >= 1, got ", milestone, " after ", previous));
      previous = milestone;
    }
    check.InRange("schedule.step.gamma", schedule.step().gamma(), 0.0, 1.0, true);
  } else if (schedule.has_cosine()) {
    check.AtLeast("schedule.cosine.warmup_epochs", schedule.cosine().warmup_epochs(), 0.0);
    check.InRange("schedule.cosine.warmup_start_factor", schedule.cosine().warmup_start_factor(), 0.0, 1.0);
    check.InRange("schedule.cosine.final_lr_fraction", schedule.cosine().final_lr_fraction(), 0.0, 1.0);
  } else if (schedule.has_one_cycle()) {
    check.InRange("schedule.one_cycle.pct_start", schedule.one_cycle().pct_start(), 0.0, 1.0, true, true);
    check.AtLeast("schedule.one_cycle.div_factor", schedule.one_cycle().div_factor(), 1.0);
    check.AtLeast("schedule.one_cycle.final_div_factor", schedule.one_cycle().final_div_factor(), 1.0);
  }
  if (schedule.has_momentum_cycle()) {
    const MomentumCycle& cycle = schedule.momentum_cycle();
    check.InRange("schedule.momentum_cycle.high", cycle.high(), 0.0, 1.0, false, true);
    check.InRange("schedule.momentum_cycle.low", cycle.low(), 0.0, cycle.high());
    if (config.optimizer().has_sgd() && config.optimizer().sgd().nesterov()) {
      check.Require("schedule.momentum_cycle.low", cycle.low() > 0,
                    "must be > 0 with optimizer.sgd.nesterov (Nesterov momentum needs a momentum)");
    }
  }

  const TrainingConfig& training = config.training();
  check.InRange("training.epochs", training.epochs(), 1, 10000);
  check.InRange("training.batch_size", training.batch_size(), 1, 4096);
  check.InRange("training.threads", training.threads(), 0, 256);
  check.AtLeast("training.eval_every_epochs", training.eval_every_epochs(), 1);
  check.AtLeast("training.checkpoint_every_epochs", training.checkpoint_every_epochs(), 1);
  check.AtLeast("training.log_every_steps", training.log_every_steps(), 1);
  check.AtLeast("training.max_steps_per_epoch", training.max_steps_per_epoch(), 0);
  check.AtLeast("training.accumulate_steps", training.accumulate_steps(), 1);

  check.AtLeast("fine_tune.freeze_feature_blocks", config.fine_tune().freeze_feature_blocks(), 0);
  check.Require("output.runs_root", !config.output().runs_root().empty(), "must not be empty");
  check.InRange("metrics.threshold", config.metrics().threshold(), 0.0, 1.0);
  check.AtLeast("metrics.top_k", config.metrics().top_k(), 1);
  return check.violation();
}

}  // namespace

void ApplyNormalization(const DataConfig& data, std::array<float, 3>& mean, std::array<float, 3>& stddev) {
  const NormalizationConfig& normalization = data.normalization();
  if (normalization.mean_size() == 3) {
    for (int c = 0; c < 3; ++c) mean[c] = static_cast<float>(normalization.mean(c));
  }
  if (normalization.std_size() == 3) {
    for (int c = 0; c < 3; ++c) stddev[c] = static_cast<float>(normalization.std(c));
  }
}

std::string ExperimentPath(const std::string& experiments_dir, const std::string& name) {
  return experiments_dir + "/" + name + ".pbtxt";
}

absl::StatusOr<TrainConfig> ParseTrainConfigText(const std::string& text, const std::string& source) {
  ASSIGN_OR_RETURN(Layer layer, ParseLayer(text, source));
  return std::move(layer.config);
}

void FillDefaults(TrainConfig& config) { FillMessageDefaults(&config); }

absl::Status ValidateTrainConfig(const TrainConfig& config) {
  const std::optional<Violation> violation = FindViolation(config);
  if (violation) return absl::InvalidArgumentError(violation->message);
  return absl::OkStatus();
}

absl::StatusOr<RunConfigReading> RereadRunConfig(const std::string& config_pbtxt) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(config_pbtxt));
  // RunDirectory::WriteConfig puts '#' lines before the printed config, whose own lines never start with '#'.
  size_t body = 0;
  while (body < text.size() && text[body] == '#') {
    const size_t end = text.find('\n', body);
    body = end == std::string::npos ? text.size() : end + 1;
  }
  RunConfigReading reading;
  reading.written_hash = Hash64Hex(text.substr(body));
  ASSIGN_OR_RETURN(Layer layer, ParseLayer(text, config_pbtxt));
  FillDefaults(layer.config);
  TextFormat::PrintToString(layer.config, &reading.text_now);
  return reading;
}

absl::StatusOr<LoadedConfig> LoadTrainConfig(const ConfigRequest& request) {
  if (request.config.empty()) return absl::InvalidArgumentError("no config given (an experiment name or a .pbtxt)");
  const bool is_path = request.config.find('/') != std::string::npos ||
                       (request.config.size() > 6 && request.config.substr(request.config.size() - 6) == ".pbtxt");
  const std::string base_path = ExperimentPath(request.experiments_dir, "base");
  const std::string overlay_path = is_path ? request.config : ExperimentPath(request.experiments_dir, request.config);

  std::vector<std::pair<std::string, std::string>> inputs;  // (source, text)
  std::vector<std::string> files = {base_path};
  if (BaseName(overlay_path) != "base" || is_path) files.push_back(overlay_path);
  for (const std::string& file : files) {
    absl::StatusOr<std::string> text = ReadFile(file);
    if (!text.ok()) {
      if (file == overlay_path && !is_path) {
        return absl::NotFoundError("unknown experiment '" + request.config + "': no file " + overlay_path +
                                   " (pass an experiment name from experiments/ or a path to a .pbtxt)");
      }
      return text.status();
    }
    inputs.emplace_back(file, *std::move(text));
  }
  for (size_t i = 0; i < request.overrides.size(); ++i) {
    inputs.emplace_back(absl::StrCat("--override[", i, "]"), request.overrides[i]);
  }

  std::vector<Layer> layers;
  LoadedConfig loaded;
  for (auto& [source, text] : inputs) {
    ASSIGN_OR_RETURN(Layer layer, ParseLayer(text, source));
    for (const std::string& path : layer.config.clear()) {
      RETURN_IF_ERROR(ClearFieldPath(loaded.config, path, source));
    }
    loaded.config.MergeFrom(layer.config);
    loaded.config.clear_clear();
    loaded.sources.push_back(source);
    layers.push_back(std::move(layer));
  }
  loaded.config.set_name(BaseName(overlay_path));
  FillDefaults(loaded.config);
  if (std::optional<Violation> violation = FindViolation(loaded.config)) {
    const std::string where = LocateInLayers(layers, violation->field);
    return absl::InvalidArgumentError((where.empty() ? "(schema default)" : where) + ": " + violation->message);
  }
  RETURN_IF_ERROR(CheckLossFields(loaded.config, layers));
  TextFormat::PrintToString(loaded.config, &loaded.text);
  loaded.hash = Hash64Hex(loaded.text);
  return loaded;
}

}  // namespace trainer
