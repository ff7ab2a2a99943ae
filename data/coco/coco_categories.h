// The 80 object categories of COCO 2017 instances files: COCO's ids (1..90 with gaps), names and supercategories.
#ifndef DATA_COCO_COCO_CATEGORIES_H_
#define DATA_COCO_COCO_CATEGORIES_H_

#include <vector>

#include "data/coco/coco_dataset.h"

namespace coco::data {

// Sorted by id; position i is contiguous class index i, as ReadCocoInstances assigns it.
const std::vector<Category>& Coco2017Categories();

}  // namespace coco::data

#endif  // DATA_COCO_COCO_CATEGORIES_H_
