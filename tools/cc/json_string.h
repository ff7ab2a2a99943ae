// A JSON string literal for any text: the one quoting routine behind every JSON the toolkit writes by hand (the
// inspector's reports, predict's JSON Lines, the ONNX metadata).
#ifndef TOOLS_CC_JSON_STRING_H_
#define TOOLS_CC_JSON_STRING_H_

#include <string>

namespace coco {

// `text` in double quotes with '"', '\\' and control characters escaped (\n, \r, \t short; others \u00XX). Other
// bytes, UTF-8 included, pass through unchanged.
std::string JsonString(const std::string& text);

}  // namespace coco

#endif  // TOOLS_CC_JSON_STRING_H_
