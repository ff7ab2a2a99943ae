// A PNG contact sheet of an emoji data set just written: its first train and val images side by side, captioned, to
// look at the composites.
#ifndef DATA_EMOJI_EMOJI_CONTACT_SHEET_H_
#define DATA_EMOJI_EMOJI_CONTACT_SHEET_H_

#include <string>

#include "absl/status/status.h"
#include "data/emoji/emoji_coco.h"

namespace coco::data {

// `per_split` images spread evenly over each split (train rows, then val rows), `columns` to a row, read back from the
// JPEGs under result.out_dir; each captioned with its split and id and the names of its labels (clutter unnamed).
absl::Status WriteEmojiContactSheet(const EmojiCocoResult& result, const std::string& path, int per_split = 16,
                                    int columns = 8);

}  // namespace coco::data

#endif  // DATA_EMOJI_EMOJI_CONTACT_SHEET_H_
