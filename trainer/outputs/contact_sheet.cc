#include "trainer/outputs/contact_sheet.h"

#include <algorithm>
#include <fstream>
#include <iterator>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "trainer/outputs/svg_chart.h"

namespace trainer {
namespace {

constexpr double kTileWidth = 200, kImageHeight = 150, kLineHeight = 14, kGap = 12, kTop = 56;
constexpr size_t kMaxLines = 6;  // tags shown under an image; the rest are counted
constexpr const char *kHit = "#2ca02c", *kMiss = "#ff7f0e", *kFalseAlarm = "#d62728";

std::string Px(double value) { return absl::StrFormat("%.1f", value); }

// The file as a data URI, or "" when it cannot be read or is neither JPEG nor PNG (by its first bytes).
std::string DataUri(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.rfind("\xff\xd8\xff", 0) == 0) return "data:image/jpeg;base64," + absl::Base64Escape(bytes);
  if (bytes.rfind("\x89PNG", 0) == 0) return "data:image/png;base64," + absl::Base64Escape(bytes);
  return "";
}

std::string Text(double x, double y, const std::string& color, const std::string& text) {
  return "<text x=\"" + Px(x) + "\" y=\"" + Px(y) + "\" fill=\"" + color + "\">" + XmlEscape(text) + "</text>\n";
}

}  // namespace

std::string SvgContactSheet(const std::string& title, const std::vector<SheetTile>& tiles, int columns) {
  columns = std::max(1, columns);
  const int rows = (static_cast<int>(tiles.size()) + columns - 1) / columns;
  const double tile_height = kImageHeight + 18 + kLineHeight * (kMaxLines + 1);
  const double width = kGap + columns * (kTileWidth + kGap), height = kTop + rows * (tile_height + kGap);
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"" +
                    Px(width) + "\" height=\"" + Px(height) + "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"" + Px(width / 2) +
         "\" y=\"20\" text-anchor=\"middle\" font-size=\"15\">" + XmlEscape(title) + "</text>\n";
  svg += Text(kGap, 42, kHit, "\u2713 true and predicted") + Text(kGap + 150, 42, kMiss, "\u2717 true, missed") +
         Text(kGap + 265, 42, kFalseAlarm, "+ predicted, not true (false alarm)");
  for (size_t t = 0; t < tiles.size(); ++t) {
    const SheetTile& tile = tiles[t];
    const double x = kGap + (t % columns) * (kTileWidth + kGap), y = kTop + (t / columns) * (tile_height + kGap);
    svg += "<g class=\"tile\">\n<rect x=\"" + Px(x) + "\" y=\"" + Px(y) + "\" width=\"" + Px(kTileWidth) +
           "\" height=\"" + Px(kImageHeight) + "\" fill=\"#eeeeee\"/>\n";
    const std::string uri = DataUri(tile.image_path);
    if (uri.empty()) {
      svg += "<text x=\"" + Px(x + kTileWidth / 2) + "\" y=\"" + Px(y + kImageHeight / 2) +
             "\" text-anchor=\"middle\" fill=\"#888888\">image not shown (unreadable)</text>\n";
    } else {
      svg += "<image x=\"" + Px(x) + "\" y=\"" + Px(y) + "\" width=\"" + Px(kTileWidth) + "\" height=\"" +
             Px(kImageHeight) + "\" preserveAspectRatio=\"xMidYMid meet\" xlink:href=\"" + uri + "\"/>\n";
    }
    double line_y = y + kImageHeight + 14;
    svg += Text(x, line_y, "#444444", tile.caption);
    std::vector<std::pair<std::string, const char*>> lines;
    for (const std::string& tag : tile.hits) lines.push_back({"\u2713 " + tag, kHit});
    for (const std::string& tag : tile.misses) lines.push_back({"\u2717 " + tag, kMiss});
    for (const std::string& tag : tile.false_alarms) lines.push_back({"+ " + tag, kFalseAlarm});
    if (lines.empty()) lines.push_back({"(no tags, none predicted)", "#888888"});
    for (size_t i = 0; i < lines.size() && i < kMaxLines; ++i) {
      line_y += kLineHeight;
      const bool last_shown = i + 1 == kMaxLines && lines.size() > kMaxLines;
      svg += last_shown ? Text(x, line_y, "#444444", absl::StrCat("... and ", lines.size() - i, " more"))
                        : Text(x, line_y, lines[i].second, lines[i].first);
    }
    svg += "</g>\n";
  }
  return svg + "</svg>\n";
}

}  // namespace trainer
