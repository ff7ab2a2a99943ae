#include "data/coco/label_space.h"

#include <algorithm>
#include <sstream>

namespace coco::data {

LabelSpace::LabelSpace(std::vector<std::string> names) : names_(std::move(names)) {
  for (size_t i = 0; i < names_.size(); ++i) index_.emplace(names_[i], static_cast<int32_t>(i));
}

absl::StatusOr<LabelSpace> LabelSpace::Create(std::vector<std::string> class_names) {
  std::unordered_map<std::string, int> seen;
  for (const std::string& name : class_names) {
    if (++seen[name] > 1) return absl::InvalidArgumentError("label space: class name '" + name + "' appears twice");
  }
  return LabelSpace(std::move(class_names));
}

LabelSpace LabelSpace::FromDataset(const CocoDataset& dataset) {
  std::vector<std::string> names;
  for (const Category& category : dataset.categories) names.push_back(category.name);
  return LabelSpace(std::move(names));  // the reader already rejects duplicate names
}

int32_t LabelSpace::IndexOf(const std::string& name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? -1 : it->second;
}

std::string LabelMappingReport::ToString() const {
  std::ostringstream out;
  out << mapped.size() << " categories mapped, " << dropped.size() << " dropped";
  for (const auto& [name, index] : mapped) out << "\n  " << name << " -> " << index;
  for (const std::string& name : dropped) out << "\n  " << name << " -> dropped";
  return out.str();
}

absl::StatusOr<LabelMappingReport> MapToLabelSpace(const LabelSpace& space, bool drop_unknown, CocoDataset& dataset) {
  LabelMappingReport report;
  std::vector<int32_t> new_index(dataset.categories.size(), -1);
  for (size_t i = 0; i < dataset.categories.size(); ++i) {
    const std::string& name = dataset.categories[i].name;
    new_index[i] = space.IndexOf(name);
    if (new_index[i] >= 0) {
      report.mapped.emplace_back(name, new_index[i]);
    } else if (drop_unknown) {
      report.dropped.push_back(name);
    } else {
      return absl::InvalidArgumentError(dataset.source + ": category '" + name + "' (id " +
                                        std::to_string(dataset.categories[i].id) +
                                        ") is not in the label space; map it or allow dropping unknown categories");
    }
  }
  for (Image& image : dataset.images) {
    std::vector<int32_t> labels;
    for (int32_t label : image.labels) {
      if (new_index[static_cast<size_t>(label)] >= 0) labels.push_back(new_index[static_cast<size_t>(label)]);
    }
    std::sort(labels.begin(), labels.end());
    labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
    image.labels = std::move(labels);
  }
  dataset.categories.clear();
  for (size_t i = 0; i < space.names().size(); ++i) {
    dataset.categories.push_back({static_cast<int64_t>(i), space.names()[i], ""});
  }
  return report;
}

}  // namespace coco::data
