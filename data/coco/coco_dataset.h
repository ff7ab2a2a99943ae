// A COCO instances file reduced to what multi-label classification needs: per image, its file and the set of
// categories present, as contiguous class indices.
#ifndef DATA_COCO_COCO_DATASET_H_
#define DATA_COCO_COCO_DATASET_H_

#include <cstdint>
#include <string>
#include <vector>

namespace coco::data {

struct Category {
  int64_t id = 0;  // COCO's id (non-contiguous: 1..90 in COCO 2017)
  std::string name;
  std::string supercategory;
};

struct Image {
  int64_t id = 0;
  std::string file_name;  // relative to the image directory; may contain a subfolder
  int64_t width = 0;
  int64_t height = 0;
  std::vector<int32_t> labels;  // contiguous class indices present in the image, sorted, unique
  // Classes the image's source never annotates (sorted): neither present nor absent, so they are masked out of the
  // loss and the metrics (targets -1) rather than taken as negatives. Set by MapToLabelSpace (label_space.h).
  std::vector<int32_t> unlabelled;
};

struct CocoDataset {
  std::string source;  // the file it was read from, for messages
  // Sorted by COCO id; a category's position is its contiguous class index.
  std::vector<Category> categories;
  std::vector<Image> images;  // in file order
  // Per category (aligned with `categories`): the annotations that gave an image its label.
  std::vector<int64_t> category_annotations;
  // Per category, when aliases renamed it (label_space.h): its name in the file; empty otherwise or when unset.
  std::vector<std::string> category_names_in_file;
  int64_t annotations_read = 0;
  int64_t crowd_annotations_ignored = 0;
  int64_t small_annotations_ignored = 0;  // area below the reader's min_area
  int64_t images_without_labels_dropped = 0;

  int64_t num_classes() const { return static_cast<int64_t>(categories.size()); }
  // Row-major [images x classes] matrix: 1 present, 0 absent, -1 not labelled (Image::unlabelled).
  std::vector<float> MultiHotMatrix() const;
  // Index of the category with this name, or -1.
  int32_t ClassIndex(const std::string& name) const;
};

}  // namespace coco::data

#endif  // DATA_COCO_COCO_DATASET_H_
