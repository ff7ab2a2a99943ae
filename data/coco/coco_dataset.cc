#include "data/coco/coco_dataset.h"

namespace coco::data {

std::vector<float> CocoDataset::MultiHotMatrix() const {
  const size_t classes = categories.size();
  std::vector<float> matrix(images.size() * classes, 0.0f);
  for (size_t i = 0; i < images.size(); ++i) {
    for (int32_t label : images[i].labels) matrix[i * classes + static_cast<size_t>(label)] = 1.0f;
    for (int32_t label : images[i].unlabelled) matrix[i * classes + static_cast<size_t>(label)] = -1.0f;
  }
  return matrix;
}

int32_t CocoDataset::ClassIndex(const std::string& name) const {
  for (size_t i = 0; i < categories.size(); ++i) {
    if (categories[i].name == name) return static_cast<int32_t>(i);
  }
  return -1;
}

}  // namespace coco::data
