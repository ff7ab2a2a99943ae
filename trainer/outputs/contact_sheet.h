// A contact sheet for report.md: validation images in a grid, each with its true and predicted tags marked as hits,
// misses and false alarms, as one SVG document that embeds the image files (data URIs), so it opens anywhere.
#ifndef TRAINER_OUTPUTS_CONTACT_SHEET_H_
#define TRAINER_OUTPUTS_CONTACT_SHEET_H_

#include <string>
#include <vector>

namespace trainer {

struct SheetTile {
  std::string image_path;                 // a JPEG or PNG file; anything else is drawn as a grey "not shown" box
  std::string caption;                    // under the image, e.g. its file name
  std::vector<std::string> hits;          // true and predicted
  std::vector<std::string> misses;        // true, not predicted
  std::vector<std::string> false_alarms;  // predicted, not true
};

// One <g class="tile"> per tile, `columns` to a row, under a legend of the three colours.
std::string SvgContactSheet(const std::string& title, const std::vector<SheetTile>& tiles, int columns);

}  // namespace trainer

#endif  // TRAINER_OUTPUTS_CONTACT_SHEET_H_
