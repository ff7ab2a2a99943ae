// The contact sheet: one tile per image with its JPEG or PNG embedded, tags coloured and marked by kind, long tag
// lists cut, unreadable files drawn as a box; librsvg renders it.
#include "trainer/outputs/contact_sheet.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

namespace trainer {
namespace {

size_t Count(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

const std::string kJpeg = "trainer/outputs/testdata/tile.jpg";
const std::string kPng = "trainer/outputs/testdata/tile.png";

TEST(SvgContactSheetTest, OneTilePerImageWithItsTagsMarked) {
  const std::vector<SheetTile> tiles = {{kJpeg, "a.jpg", {"person"}, {"dog"}, {"cat"}},
                                        {kPng, "b.png", {}, {}, {}},
                                        {"trainer/outputs/testdata/missing.jpg", "c.jpg", {"car"}, {}, {}},
                                        {kJpeg, "d.jpg", {"a", "b", "c", "d", "e", "f", "g"}, {}, {}}};
  const std::string svg = SvgContactSheet("validation images", tiles, 3);
  EXPECT_EQ(Count(svg, "<g class=\"tile\">"), 4u);
  EXPECT_EQ(Count(svg, "xlink:href=\"data:image/jpeg;base64,/9j/"), 2u);        // base64 of FF D8 FF
  EXPECT_EQ(Count(svg, "xlink:href=\"data:image/png;base64,iVBORw0KGgo"), 1u);  // base64 of the PNG signature
  EXPECT_EQ(Count(svg, ">image not shown (unreadable)<"), 1u);
  EXPECT_NE(svg.find("fill=\"#2ca02c\">\u2713 person<"), std::string::npos);
  EXPECT_NE(svg.find("fill=\"#ff7f0e\">\u2717 dog<"), std::string::npos);
  EXPECT_NE(svg.find("fill=\"#d62728\">+ cat<"), std::string::npos);
  EXPECT_NE(svg.find(">(no tags, none predicted)<"), std::string::npos);
  // Seven tags: five shown, then "... and 2 more".
  EXPECT_NE(svg.find("\u2713 e<"), std::string::npos);
  EXPECT_EQ(svg.find("\u2713 f<"), std::string::npos);
  EXPECT_NE(svg.find(">... and 2 more<"), std::string::npos);

  const char* rsvg = "/usr/bin/rsvg-convert";
  ASSERT_EQ(std::system((std::string("test -x ") + rsvg).c_str()), 0)
      << rsvg << " is missing: run tools/setup.sh (it installs librsvg2-bin)";
  const std::string dir = std::getenv("TEST_TMPDIR");
  std::ofstream(dir + "/sheet.svg") << svg;
  // XDG_CACHE_HOME: fontconfig wants a writable cache, and the sandbox's home is read-only.
  const std::string command = "XDG_CACHE_HOME=" + dir + " " + rsvg + " -o " + dir + "/sheet.png " + dir + "/sheet.svg";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

}  // namespace
}  // namespace trainer
