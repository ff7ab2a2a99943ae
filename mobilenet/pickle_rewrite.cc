#include "mobilenet/pickle_rewrite.h"

#include <caffe2/serialize/inline_container.h>
#include <caffe2/serialize/istream_adapter.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <sstream>
#include <vector>

namespace mobilenet {
namespace {

uint32_t LittleEndian(const std::string& bytes, size_t at, int width) {
  uint32_t value = 0;
  for (int i = width - 1; i >= 0; --i) value = (value << 8) | static_cast<uint8_t>(bytes[at + static_cast<size_t>(i)]);
  return value;
}

// Bytes of argument that follow `opcode` at `at` (just after the opcode byte), or -1 if unknown / truncated.
int64_t ArgumentLength(const std::string& p, size_t at, uint8_t opcode) {
  const auto fixed = [&](size_t n) -> int64_t { return at + n <= p.size() ? static_cast<int64_t>(n) : -1; };
  const auto lines = [&](int count) -> int64_t {
    size_t end = at;
    for (int i = 0; i < count; ++i) {
      end = p.find('\n', end);
      if (end == std::string::npos) return -1;
      ++end;
    }
    return static_cast<int64_t>(end - at);
  };
  const auto sized = [&](int width) -> int64_t {
    if (at + static_cast<size_t>(width) > p.size()) return -1;
    return fixed(static_cast<size_t>(width) + LittleEndian(p, at, width));
  };
  switch (opcode) {
    case ')':
    case '}':
    case ']':
    case '(':
    case 't':
    case 0x85:
    case 0x86:
    case 0x87:
    case 0x88:
    case 0x89:
    case 'N':
    case 'R':
    case 'b':
    case 's':
    case 'u':
    case 'a':
    case 'e':
    case 'Q':
    case '.':
    case 0x81:
    case '0':
    case '1':
    case '2': return 0;
    case 0x80:
    case 'q':
    case 'h':
    case 'K': return fixed(1);
    case 'M': return fixed(2);
    case 'r':
    case 'j':
    case 'J': return fixed(4);
    case 'G': return fixed(8);
    case 'c': return lines(2);
    case 'p':
    case 'g':
    case 'I':
    case 'L':
    case 'F':
    case 'V':
    case 'S':
    case 'P': return lines(1);
    case 'X':
    case 'T':
    case 'B':
    case 0x8b: return sized(4);
    case 'U':
    case 'C':
    case 0x8a:
    case 0x8c: return sized(1);
    default: return -1;  // protocol 4 framing/MEMOIZE and anything else: not handled
  }
}

// How an opcode changes the unpickler's stack: pops `pops` items (or everything down to the last MARK when
// `to_mark`), then pushes `pushes` (0 or 1) items, or a MARK.
struct StackEffect {
  int pops = 0;
  bool to_mark = false;
  int pushes = 0;
  bool pushes_mark = false;
};

StackEffect EffectOf(uint8_t opcode) {
  switch (opcode) {
    case '(': return {0, false, 0, true};
    case 't': return {0, true, 1, false};
    case 0x85:
    case 'Q': return {1, false, 1, false};
    case 0x86:
    case 'R':
    case 0x81: return {2, false, 1, false};
    case 0x87: return {3, false, 1, false};
    case '0':
    case 'a': return {1, false, 0, false};
    case 's': return {2, false, 0, false};
    case 'u':
    case 'e':
    case '1': return {0, true, 0, false};
    case 0x80:
    case 'q':
    case 'r':
    case 'p':
    case '.': return {};
    default: return {0, false, 1, false};  // every other known opcode pushes one value
  }
}

}  // namespace

std::optional<std::string> RewriteOrderedDictsAsDicts(const std::string& p) {
  static const std::string kOrderedDict = "collections\nOrderedDict\n";
  std::string out;
  out.reserve(p.size() + 64);
  std::set<uint32_t> class_memo;  // memo slots that would have held the OrderedDict class
  bool class_on_stack = false;    // the last opcode pushed the OrderedDict class (elided from the output)
  // Where in `out` each value on the unpickler's stack starts (marks included), so a SETITEM, which LibTorch's
  // unpickler lacks, can become MARK key value SETITEMS.
  std::vector<size_t> starts;
  std::vector<bool> is_mark;
  const auto apply = [&](uint8_t opcode, size_t start) -> bool {
    const StackEffect effect = EffectOf(opcode);
    size_t first = start;
    for (int i = 0; i < effect.pops; ++i) {
      if (starts.empty() || is_mark.back()) return false;
      first = starts.back();
      starts.pop_back();
      is_mark.pop_back();
    }
    if (effect.to_mark) {
      while (!starts.empty() && !is_mark.back()) {
        starts.pop_back();
        is_mark.pop_back();
      }
      if (starts.empty()) return false;
      first = starts.back();
      starts.pop_back();
      is_mark.pop_back();
    }
    if (effect.pushes == 1 || effect.pushes_mark) {
      starts.push_back(effect.pops > 0 || effect.to_mark ? first : start);
      is_mark.push_back(effect.pushes_mark);
    }
    return true;
  };

  size_t at = 0;
  while (at < p.size()) {
    const uint8_t opcode = static_cast<uint8_t>(p[at]);
    const int64_t length = ArgumentLength(p, at + 1, opcode);
    if (length < 0) return std::nullopt;
    const std::string argument = p.substr(at + 1, static_cast<size_t>(length));
    const size_t next = at + 1 + static_cast<size_t>(length);
    if (opcode == 'c' && argument == kOrderedDict) {
      class_on_stack = true;
    } else if (class_on_stack && (opcode == 'q' || opcode == 'r')) {
      class_memo.insert(LittleEndian(argument, 0, opcode == 'q' ? 1 : 4));  // memoising the class: elide
    } else if ((opcode == 'h' || opcode == 'j') && class_memo.count(LittleEndian(argument, 0, opcode == 'h' ? 1 : 4))) {
      class_on_stack = true;
    } else if (class_on_stack) {
      // The class is only ever called with no arguments: OrderedDict() is EMPTY_TUPLE then REDUCE.
      if (opcode != ')' || next >= p.size() || p[next] != 'R') return std::nullopt;
      if (!apply('}', out.size())) return std::nullopt;
      out.push_back('}');
      class_on_stack = false;
      at = next + 1;
      continue;
    } else if (opcode == 's') {
      // SETITEM(dict, key, value) == MARK before the key, then SETITEMS.
      if (starts.size() < 3 || is_mark[starts.size() - 1] || is_mark[starts.size() - 2]) return std::nullopt;
      out.insert(out.begin() + static_cast<std::ptrdiff_t>(starts[starts.size() - 2]), '(');
      if (!apply('s', out.size())) return std::nullopt;
      out.push_back('u');
    } else if (opcode == 'b') {
      // BUILD(obj, state) sets OrderedDict's _metadata; LibTorch's unpickler can neither BUILD a dict nor POP, so
      // the state expression is cut out of the program. (A later GET of something memoised inside it would then
      // fail, and the caller reports the original error.)
      if (starts.empty() || is_mark.back()) return std::nullopt;
      out.resize(starts.back());
      starts.pop_back();
      is_mark.pop_back();
    } else {
      if (!apply(opcode, out.size())) return std::nullopt;
      out.push_back(static_cast<char>(opcode));
      out += argument;
    }
    at = next;
  }
  return out;
}

std::optional<std::vector<char>> RewriteArchiveOrderedDicts(const std::vector<char>& archive) {
  try {
    std::istringstream in(std::string(archive.data(), archive.size()));
    caffe2::serialize::PyTorchStreamReader reader(&in);
    if (!reader.hasRecord("data.pkl")) return std::nullopt;
    std::vector<char> repacked;
    {
      caffe2::serialize::PyTorchStreamWriter writer([&repacked](const void* data, size_t size) {
        const char* bytes = static_cast<const char*>(data);
        repacked.insert(repacked.end(), bytes, bytes + size);
        return size;
      });
      writer.setMinVersion(reader.version());
      for (const std::string& name : reader.getAllRecords()) {
        if (name == "version" || name == ".data/version") continue;  // the writer adds its own
        auto [data, size] = reader.getRecord(name);
        if (name != "data.pkl") {
          writer.writeRecord(name, data.get(), size);
          continue;
        }
        const std::optional<std::string> rewritten =
            RewriteOrderedDictsAsDicts(std::string(static_cast<const char*>(data.get()), size));
        if (!rewritten) return std::nullopt;
        writer.writeRecord(name, rewritten->data(), rewritten->size());
      }
      writer.writeEndOfFile();
    }
    return repacked;
  } catch (const c10::Error&) {
    return std::nullopt;
  }
}

}  // namespace mobilenet
