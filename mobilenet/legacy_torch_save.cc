#include "mobilenet/legacy_torch_save.h"

#include <c10/core/CPUAllocator.h>
#include <torch/csrc/jit/serialization/storage_context.h>
#include <torch/csrc/jit/serialization/unpickler.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "mobilenet/pickle_rewrite.h"

namespace mobilenet {
namespace {

// Pickles 1 and 2 as Python writes them at protocol 2: PROTO 2, LONG1 of 10 bytes (0x1950a86a20f9469cfc6c,
// little-endian), STOP; then PROTO 2, BININT2 1001, STOP.
constexpr std::string_view kMagicPickle("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15);
constexpr std::string_view kVersionPickle("\x80\x02M\xe9\x03.", 6);
constexpr int64_t kProtocolVersion = 1001;

// Bounds on what a pickle may build, far above any state dict (MobileNetV2's: about 3,000 values, nesting 4).
constexpr int kMaxNesting = 100;
constexpr size_t kMaxValues = size_t{1} << 22;

// The protocol-2 opcodes torch.save's pickles use.
enum Opcode : uint8_t {
  kProto = 0x80,
  kStop = '.',
  kMark = '(',
  kNone = 'N',
  kNewTrue = 0x88,
  kNewFalse = 0x89,
  kBinInt1 = 'K',
  kBinInt2 = 'M',
  kBinInt = 'J',
  kLong1 = 0x8a,
  kBinFloat = 'G',
  kBinUnicode = 'X',
  kEmptyTuple = ')',
  kTuple = 't',
  kTuple1 = 0x85,
  kTuple2 = 0x86,
  kTuple3 = 0x87,
  kEmptyList = ']',
  kAppend = 'a',
  kAppends = 'e',
  kEmptyDict = '}',
  kSetItem = 's',
  kSetItems = 'u',
  kBinPut = 'q',
  kLongBinPut = 'r',
  kBinGet = 'h',
  kLongBinGet = 'j',
  kGlobal = 'c',
  kReduce = 'R',
  kBuild = 'b',
  kBinPersId = 'Q',
};

std::string Hex(std::string_view bytes) {
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    char digits[4];
    std::snprintf(digits, sizeof(digits), i == 0 ? "%02x" : " %02x", static_cast<uint8_t>(bytes[i]));
    out += digits;
  }
  return out;
}

std::string OpcodeName(uint8_t opcode) {
  switch (opcode) {
    case kProto: return "PROTO";
    case kStop: return "STOP";
    case kMark: return "MARK";
    case kNone: return "NONE";
    case kNewTrue: return "NEWTRUE";
    case kNewFalse: return "NEWFALSE";
    case kBinInt1: return "BININT1";
    case kBinInt2: return "BININT2";
    case kBinInt: return "BININT";
    case kLong1: return "LONG1";
    case kBinFloat: return "BINFLOAT";
    case kBinUnicode: return "BINUNICODE";
    case kEmptyTuple: return "EMPTY_TUPLE";
    case kTuple: return "TUPLE";
    case kTuple1: return "TUPLE1";
    case kTuple2: return "TUPLE2";
    case kTuple3: return "TUPLE3";
    case kEmptyList: return "EMPTY_LIST";
    case kAppend: return "APPEND";
    case kAppends: return "APPENDS";
    case kEmptyDict: return "EMPTY_DICT";
    case kSetItem: return "SETITEM";
    case kSetItems: return "SETITEMS";
    case kBinPut: return "BINPUT";
    case kLongBinPut: return "LONG_BINPUT";
    case kBinGet: return "BINGET";
    case kLongBinGet: return "LONG_BINGET";
    case kGlobal: return "GLOBAL";
    case kReduce: return "REDUCE";
    case kBuild: return "BUILD";
    case kBinPersId: return "BINPERSID";
    case 'U': return "SHORT_BINSTRING (a Python 2 str)";
    case 'T': return "BINSTRING (a Python 2 str)";
    default: return "0x" + Hex(std::string_view(reinterpret_cast<const char*>(&opcode), 1));
  }
}

uint64_t LittleEndian(std::string_view bytes, size_t at, size_t width) {
  uint64_t value = 0;
  for (size_t i = width; i-- > 0;) value = (value << 8) | static_cast<uint8_t>(bytes[at + i]);
  return value;
}

constexpr int64_t kUnknownOpcode = -1;
constexpr int64_t kCutOff = -2;

// Bytes of argument after the opcode at `at` (which the caller has checked is inside `p`): kUnknownOpcode for an
// opcode outside the set above, kCutOff when the argument runs past the end of `p`.
int64_t ArgumentSize(std::string_view p, size_t at) {
  const size_t begin = at + 1;
  const size_t left = p.size() - begin;
  const auto fixed = [&](size_t n) { return n <= left ? static_cast<int64_t>(n) : kCutOff; };
  const auto sized = [&](size_t width) {
    if (width > left) return kCutOff;
    const uint64_t length = LittleEndian(p, begin, width);
    return length <= left - width ? static_cast<int64_t>(width + length) : kCutOff;
  };
  switch (static_cast<uint8_t>(p[at])) {
    case kStop:
    case kMark:
    case kNone:
    case kNewTrue:
    case kNewFalse:
    case kEmptyTuple:
    case kTuple:
    case kTuple1:
    case kTuple2:
    case kTuple3:
    case kEmptyList:
    case kAppend:
    case kAppends:
    case kEmptyDict:
    case kSetItem:
    case kSetItems:
    case kReduce:
    case kBuild:
    case kBinPersId: return 0;
    case kProto:
    case kBinInt1:
    case kBinPut:
    case kBinGet: return fixed(1);
    case kBinInt2: return fixed(2);
    case kBinInt:
    case kLongBinPut:
    case kLongBinGet: return fixed(4);
    case kBinFloat: return fixed(8);
    case kLong1: return sized(1);
    case kBinUnicode: return sized(4);
    case kGlobal: {  // "module\nname\n"
      const size_t first = p.find('\n', begin);
      if (first == std::string_view::npos) return kCutOff;
      const size_t second = p.find('\n', first + 1);
      if (second == std::string_view::npos) return kCutOff;
      return static_cast<int64_t>(second + 1 - begin);
    }
    default: return kUnknownOpcode;
  }
}

// Where the pickle that starts at `start` ends (just after its STOP), found by walking its opcodes; an error message
// when the file ends first or an opcode is not one of torch.save's.
absl::StatusOr<size_t> FindEndOfPickle(std::string_view bytes, size_t start) {
  size_t at = start;
  while (at < bytes.size()) {
    const int64_t size = ArgumentSize(bytes, at);
    if (size == kUnknownOpcode) {
      return absl::InvalidArgumentError("opcode " + OpcodeName(static_cast<uint8_t>(bytes[at])) + " at byte " +
                                        std::to_string(at) + " is not one torch.save's protocol-2 pickles use");
    }
    if (size == kCutOff) break;
    if (bytes[at] == kStop) return at + 1;
    at += 1 + static_cast<size_t>(size);
  }
  return absl::InvalidArgumentError("the file ends at byte " + std::to_string(bytes.size()) +
                                    " inside the pickle that starts at byte " + std::to_string(start) +
                                    " (truncated?)");
}

// One value on the model of the unpickler's stack.
struct Value {
  enum Kind : uint8_t {
    kNone,
    kBool,
    kInt,
    kFloat,
    kString,
    kTuple,
    kList,
    kDict,
    kCallable,
    kStorageType,
    kStorage,
    kTensor
  };
  Kind kind = kNone;
  bool sealed = false;          // nested into another value or used as an argument: it may no longer change
  int depth = 1;                // containers nested, counting this one
  int64_t number = 0;           // kBool, kInt; kStorageType: element size; kCallable: which
  std::string_view text;        // kString: the string; kStorageType: "FloatStorage"...; kCallable: its name
  std::vector<uint32_t> items;  // kTuple, kList: elements; kDict: key, value, key, value...
};

const char* KindName(Value::Kind kind) {
  switch (kind) {
    case Value::kNone: return "None";
    case Value::kBool: return "bool";
    case Value::kInt: return "int";
    case Value::kFloat: return "float";
    case Value::kString: return "str";
    case Value::kTuple: return "tuple";
    case Value::kList: return "list";
    case Value::kDict: return "dict";
    case Value::kCallable: return "Python global";
    case Value::kStorageType: return "storage type";
    case Value::kStorage: return "storage";
    case Value::kTensor: return "tensor";
  }
  return "?";
}

enum Callable : int64_t { kRebuildTensor = 1, kOrderedDict = 2 };

// torch.<T>Storage -> element size; LibTorch's unpickler maps the same names to dtypes of these sizes.
int64_t StorageElementSize(std::string_view name) {
  static const std::map<std::string_view, int64_t> kSizes = {
      {"FloatStorage", 4}, {"DoubleStorage", 8}, {"HalfStorage", 2},         {"BFloat16Storage", 2},
      {"LongStorage", 8},  {"IntStorage", 4},    {"ShortStorage", 2},        {"CharStorage", 1},
      {"ByteStorage", 1},  {"BoolStorage", 1},   {"ComplexFloatStorage", 8}, {"ComplexDoubleStorage", 16}};
  const auto it = kSizes.find(name);
  return it == kSizes.end() ? 0 : it->second;
}

// A storage as the persistent ids of the saved object declare it.
struct StorageInfo {
  std::string type;  // "FloatStorage"...
  int64_t element_size = 0;
  int64_t numel = 0;
};

// Which pickles a PickleModel accepts: kData for sys_info and the key list (evaluated here: numbers, strings and
// containers only); kLibTorch for the saved object, which LibTorch's unpickler will run (no APPEND, SETITEM or BUILD,
// which it lacks or misreads; the globals and persistent ids of a state dict).
enum class Dialect { kData, kLibTorch };

// Runs a pickle program on a model of the unpickler: a stack of values, MARKs and the memo. Every operation is
// checked - operands present above the last MARK, memo references to stored slots, containers changed only before
// they are nested (so values form a DAG of bounded depth) - so a program this accepts cannot make LibTorch 1.13's
// unpickler (whose operand checks are incomplete) read outside its stack or memo, nest past kMaxNesting, or build
// a cycle.
class PickleModel {
 public:
  PickleModel(std::string_view program, Dialect dialect, uint64_t max_storage_bytes)
      : p_(program), dialect_(dialect), max_storage_bytes_(max_storage_bytes) {}

  // Runs the whole program, which must end with its STOP. Errors give the byte offset within the program.
  absl::Status Run() {
    if (p_.size() < 2 || static_cast<uint8_t>(p_[0]) != kProto || p_[1] != 2) {
      return absl::InvalidArgumentError("does not start with PROTO 2 (pickle protocol 2, torch.save's default)");
    }
    size_t at = 2;
    while (at < p_.size()) {
      const uint8_t opcode = static_cast<uint8_t>(p_[at]);
      const int64_t size = ArgumentSize(p_, at);
      if (size == kUnknownOpcode) return Error(at, "opcode " + OpcodeName(opcode) + " is not supported");
      if (size == kCutOff) return Error(at, "the program ends inside " + OpcodeName(opcode));
      const std::string_view argument = p_.substr(at + 1, static_cast<size_t>(size));
      if (absl::Status step = Step(opcode, argument, at); !step.ok()) return step;
      at += 1 + static_cast<size_t>(size);
      if (opcode == kStop) {
        if (at != p_.size()) return Error(at, "bytes follow the STOP");
        return absl::OkStatus();
      }
    }
    return Error(p_.size(), "the program ends without STOP");
  }

  const Value& root() const { return values_[root_]; }
  const Value& value(uint32_t index) const { return values_[index]; }
  const std::map<std::string, StorageInfo>& storages() const { return storages_; }

 private:
  absl::Status Error(size_t at, const std::string& what) const {
    return absl::InvalidArgumentError("at byte " + std::to_string(at) + " of the pickle: " + what);
  }

  absl::Status Push(Value value, size_t at) {
    if (values_.size() >= kMaxValues) return Error(at, "more than " + std::to_string(kMaxValues) + " values");
    values_.push_back(std::move(value));
    stack_.push_back(static_cast<uint32_t>(values_.size() - 1));
    return absl::OkStatus();
  }

  size_t AboveMark() const { return stack_.size() - (marks_.empty() ? 0 : marks_.back()); }

  // Takes the top `count` values (not reaching below the last MARK).
  absl::Status Pop(size_t count, uint8_t opcode, size_t at, std::vector<uint32_t>* out) {
    if (AboveMark() < count) {
      return Error(at, OpcodeName(opcode) + " needs " + std::to_string(count) +
                           " values above the last MARK, the "
                           "stack has " +
                           std::to_string(AboveMark()));
    }
    out->assign(stack_.end() - static_cast<std::ptrdiff_t>(count), stack_.end());
    stack_.resize(stack_.size() - count);
    return absl::OkStatus();
  }

  absl::Status PopToMark(uint8_t opcode, size_t at, std::vector<uint32_t>* out) {
    if (marks_.empty()) return Error(at, OpcodeName(opcode) + " without a MARK");
    out->assign(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return absl::OkStatus();
  }

  // Adds `child` to the container `parent` (not yet sealed).
  absl::Status Nest(uint32_t parent, uint32_t child, size_t at) {
    if (parent == child) return Error(at, "a container is put inside itself");
    values_[child].sealed = true;
    values_[parent].items.push_back(child);
    values_[parent].depth = std::max(values_[parent].depth, values_[child].depth + 1);
    if (values_[parent].depth > kMaxNesting) {
      return Error(at, "containers are nested more than " + std::to_string(kMaxNesting) + " deep");
    }
    return absl::OkStatus();
  }

  absl::Status PushContainer(Value::Kind kind, const std::vector<uint32_t>& items, size_t at) {
    Value container;
    container.kind = kind;
    if (absl::Status pushed = Push(std::move(container), at); !pushed.ok()) return pushed;
    const uint32_t index = stack_.back();
    for (const uint32_t item : items) {
      if (absl::Status nested = Nest(index, item, at); !nested.ok()) return nested;
    }
    return absl::OkStatus();
  }

  // The value just below the values an APPENDS/SETITEMS (or APPEND/SETITEM) took, which they add to.
  absl::Status Target(Value::Kind kind, uint8_t opcode, size_t at, uint32_t* target) {
    if (stack_.empty()) return Error(at, OpcodeName(opcode) + " has no " + KindName(kind) + " to add to");
    *target = stack_.back();
    const Value& value = values_[*target];
    if (value.kind != kind) {
      return Error(at, OpcodeName(opcode) + " adds to a " + KindName(value.kind) + ", expected a " + KindName(kind));
    }
    if (value.sealed) return Error(at, OpcodeName(opcode) + " changes a " + KindName(kind) + " after it was used");
    return absl::OkStatus();
  }

  absl::Status Memoize(uint64_t id, size_t at) {
    if (stack_.empty()) return Error(at, "BINPUT with an empty stack");
    if (id >= p_.size()) return Error(at, "memo slot " + std::to_string(id) + " is out of range");
    memo_[static_cast<uint32_t>(id)] = stack_.back();
    return absl::OkStatus();
  }

  absl::Status Recall(uint64_t id, size_t at) {
    const auto it = memo_.find(static_cast<uint32_t>(id));
    if (it == memo_.end()) return Error(at, "memo slot " + std::to_string(id) + " was never stored");
    stack_.push_back(it->second);
    return absl::OkStatus();
  }

  absl::Status Global(std::string_view argument, size_t at) {
    const size_t newline = argument.find('\n');
    const std::string_view module = argument.substr(0, newline);
    const std::string_view name = argument.substr(newline + 1, argument.size() - newline - 2);
    Value global;
    if (module == "torch" && StorageElementSize(name) > 0) {
      global.kind = Value::kStorageType;
      global.number = StorageElementSize(name);
    } else if (module == "torch._utils" && name == "_rebuild_tensor_v2") {
      global.kind = Value::kCallable;
      global.number = kRebuildTensor;
    } else if (module == "collections" && name == "OrderedDict") {
      global.kind = Value::kCallable;
      global.number = kOrderedDict;
    } else {
      return Error(at, "the Python global '" + std::string(module) + "." + std::string(name) +
                           "' is not supported "
                           "(a state dict needs only torch._utils._rebuild_tensor_v2, torch.<T>Storage and "
                           "collections.OrderedDict)");
    }
    global.text = name;
    return Push(std::move(global), at);
  }

  absl::Status Reduce(size_t at) {
    std::vector<uint32_t> operands;
    if (absl::Status popped = Pop(2, kReduce, at, &operands); !popped.ok()) return popped;
    const Value& callable = values_[operands[0]];
    const Value& arguments = values_[operands[1]];
    if (callable.kind != Value::kCallable) return Error(at, std::string("REDUCE calls a ") + KindName(callable.kind));
    if (arguments.kind != Value::kTuple) {
      return Error(at, std::string("REDUCE passes a ") + KindName(arguments.kind) + ", expected an argument tuple");
    }
    values_[operands[1]].sealed = true;
    Value result;
    if (callable.number == kOrderedDict) {
      // LibTorch's unpickler makes collections.OrderedDict() None (the rewriter has replaced any in a state dict).
      if (!arguments.items.empty()) return Error(at, "OrderedDict is called with arguments");
      result.kind = Value::kNone;
      return Push(std::move(result), at);
    }
    // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    const std::vector<uint32_t>& args = arguments.items;
    if (args.size() != 6 && args.size() != 7) {
      return Error(at, "_rebuild_tensor_v2 gets " + std::to_string(args.size()) + " arguments, expected 6 or 7");
    }
    constexpr Value::Kind kExpected[] = {Value::kStorage, Value::kInt, Value::kTuple, Value::kTuple, Value::kBool};
    for (size_t i = 0; i < 5; ++i) {
      if (values_[args[i]].kind != kExpected[i]) {
        return Error(at, "argument " + std::to_string(i + 1) + " of _rebuild_tensor_v2 is a " +
                             KindName(values_[args[i]].kind) + ", expected a " + KindName(kExpected[i]));
      }
    }
    result.kind = Value::kTensor;
    return Push(std::move(result), at);
  }

  // ("storage", torch.<T>Storage, key, location, numel[, view_metadata])
  absl::Status PersistentId(size_t at) {
    std::vector<uint32_t> operand;
    if (absl::Status popped = Pop(1, kBinPersId, at, &operand); !popped.ok()) return popped;
    Value& id = values_[operand[0]];
    id.sealed = true;
    if (id.kind != Value::kTuple || (id.items.size() != 5 && id.items.size() != 6)) {
      return Error(at, "a persistent id is not a tuple of 5 or 6 values");
    }
    const auto item = [&](size_t i) -> const Value& { return values_[id.items[i]]; };
    if (item(0).kind != Value::kString || item(0).text != "storage") {
      return Error(at, "a persistent id is not a storage (('storage', ...) expected)");
    }
    if (item(1).kind != Value::kStorageType || item(2).kind != Value::kString || item(3).kind != Value::kString ||
        item(4).kind != Value::kInt) {
      return Error(at, "a storage's persistent id is not ('storage', torch.<T>Storage, key, location, numel)");
    }
    if (id.items.size() == 6 && item(5).kind != Value::kNone) {
      return Error(at,
                   "storage views (a persistent id with view_metadata, written by old PyTorch versions) are "
                   "not supported");
    }
    const std::string key(item(2).text);
    // LibTorch parses the location as a device (then reads every storage to the CPU): only plain names reach it.
    const std::string_view location = item(3).text;
    const size_t colon = location.find(':');
    const std::string_view type = location.substr(0, colon);
    const std::string_view index = colon == std::string_view::npos ? "" : location.substr(colon + 1);
    const bool plain = !type.empty() && type.size() <= 16 && index.size() <= 4 &&
                       (colon == std::string_view::npos || !index.empty()) &&
                       std::all_of(type.begin(), type.end(), [](char c) { return c >= 'a' && c <= 'z'; }) &&
                       std::all_of(index.begin(), index.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!plain) return Error(at, "storage '" + key + "' has the location '" + std::string(location) + "'");
    StorageInfo info{std::string(item(1).text), item(1).number, item(4).number};
    if (info.numel < 0 ||
        static_cast<uint64_t>(info.numel) > max_storage_bytes_ / static_cast<uint64_t>(info.element_size)) {
      return Error(at, "storage '" + key + "' claims " + std::to_string(info.numel) + " elements of " + info.type +
                           ", more than the file holds");
    }
    const auto [it, inserted] = storages_.emplace(key, info);
    if (!inserted && (it->second.type != info.type || it->second.numel != info.numel)) {
      return Error(at, "storage '" + key + "' is declared as " + std::to_string(it->second.numel) + " x " +
                           it->second.type + " and as " + std::to_string(info.numel) + " x " + info.type);
    }
    Value storage;
    storage.kind = Value::kStorage;
    storage.text = item(2).text;
    return Push(std::move(storage), at);
  }

  absl::Status Step(uint8_t opcode, std::string_view argument, size_t at) {
    const bool libtorch = dialect_ == Dialect::kLibTorch;
    std::vector<uint32_t> items;
    uint32_t target = 0;
    Value value;
    switch (opcode) {
      case kStop:
        if (stack_.size() != 1 || !marks_.empty()) {
          return Error(at, "STOP with " + std::to_string(stack_.size()) + " values and " +
                               std::to_string(marks_.size()) + " MARKs on the stack (expected one value)");
        }
        root_ = stack_.back();
        return absl::OkStatus();
      case kMark: marks_.push_back(stack_.size()); return absl::OkStatus();
      case kNone: return Push(Value(), at);
      case kNewTrue:
      case kNewFalse:
        value.kind = Value::kBool;
        value.number = opcode == kNewTrue;
        return Push(std::move(value), at);
      case kBinInt1:
      case kBinInt2:
        value.kind = Value::kInt;
        value.number = static_cast<int64_t>(LittleEndian(argument, 0, argument.size()));
        return Push(std::move(value), at);
      case kBinInt:
        value.kind = Value::kInt;
        value.number = static_cast<int32_t>(static_cast<uint32_t>(LittleEndian(argument, 0, 4)));
        return Push(std::move(value), at);
      case kLong1: {
        const size_t width = argument.size() - 1;
        if (width > 8) return Error(at, "an integer of " + std::to_string(width) + " bytes (more than 64 bits)");
        if (libtorch && width != 8) {
          return Error(at, "a LONG1 integer of " + std::to_string(width) + " bytes (LibTorch 1.13 reads only 8)");
        }
        uint64_t bits = LittleEndian(argument, 1, width);
        if (width > 0 && width < 8 && (bits >> (8 * width - 1)) != 0) bits |= ~uint64_t{0} << (8 * width);  // sign
        value.kind = Value::kInt;
        value.number = static_cast<int64_t>(bits);
        return Push(std::move(value), at);
      }
      case kBinFloat: value.kind = Value::kFloat; return Push(std::move(value), at);
      case kBinUnicode:
        value.kind = Value::kString;
        value.text = argument.substr(4);
        return Push(std::move(value), at);
      case kEmptyTuple: return PushContainer(Value::kTuple, {}, at);
      case kTuple:
        if (absl::Status popped = PopToMark(opcode, at, &items); !popped.ok()) return popped;
        return PushContainer(Value::kTuple, items, at);
      case kTuple1:
      case kTuple2:
      case kTuple3:
        if (absl::Status popped = Pop(opcode - kTuple1 + 1, opcode, at, &items); !popped.ok()) return popped;
        return PushContainer(Value::kTuple, items, at);
      case kEmptyList: return PushContainer(Value::kList, {}, at);
      case kEmptyDict: return PushContainer(Value::kDict, {}, at);
      case kAppend:
      case kSetItem:
        if (libtorch) break;  // LibTorch 1.13 lacks both (the rewriter has turned every SETITEM into SETITEMS)
        if (absl::Status popped = Pop(opcode == kAppend ? 1 : 2, opcode, at, &items); !popped.ok()) return popped;
        if (absl::Status found = Target(opcode == kAppend ? Value::kList : Value::kDict, opcode, at, &target);
            !found.ok()) {
          return found;
        }
        for (const uint32_t item : items) {
          if (absl::Status nested = Nest(target, item, at); !nested.ok()) return nested;
        }
        return absl::OkStatus();
      case kAppends:
      case kSetItems:
        if (absl::Status popped = PopToMark(opcode, at, &items); !popped.ok()) return popped;
        if (opcode == kSetItems && items.size() % 2 != 0) return Error(at, "SETITEMS with a key but no value");
        if (absl::Status found = Target(opcode == kAppends ? Value::kList : Value::kDict, opcode, at, &target);
            !found.ok()) {
          return found;
        }
        for (const uint32_t item : items) {
          if (absl::Status nested = Nest(target, item, at); !nested.ok()) return nested;
        }
        return absl::OkStatus();
      case kBinPut: return Memoize(LittleEndian(argument, 0, 1), at);
      case kLongBinPut: return Memoize(LittleEndian(argument, 0, 4), at);
      case kBinGet: return Recall(LittleEndian(argument, 0, 1), at);
      case kLongBinGet: return Recall(LittleEndian(argument, 0, 4), at);
      case kGlobal:
        if (!libtorch) break;
        return Global(argument, at);
      case kReduce:
        if (!libtorch) break;
        return Reduce(at);
      case kBinPersId:
        if (!libtorch) break;
        return PersistentId(at);
      default:
        break;  // PROTO after the start, BUILD (setting an object's attributes: the rewriter drops OrderedDict's)
    }
    return Error(at, "opcode " + OpcodeName(opcode) + " is not supported here");
  }

  const std::string_view p_;
  const Dialect dialect_;
  const uint64_t max_storage_bytes_;
  std::vector<Value> values_;
  std::vector<uint32_t> stack_;  // indices into values_
  std::vector<size_t> marks_;    // stack sizes at each MARK
  std::unordered_map<uint32_t, uint32_t> memo_;
  std::map<std::string, StorageInfo> storages_;
  uint32_t root_ = 0;
};

absl::Status Invalid(const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError("'" + path + "' (legacy torch.save format): " + what);
}

// The value of `key` in a kData dict, or nullptr.
const Value* Lookup(const PickleModel& model, const Value& dict, std::string_view key) {
  const Value* found = nullptr;
  for (size_t i = 0; i + 1 < dict.items.size(); i += 2) {
    const Value& k = model.value(dict.items[i]);
    if (k.kind == Value::kString && k.text == key) found = &model.value(dict.items[i + 1]);
  }
  return found;
}

// Runs `program` through LibTorch's unpickler; tensors' storages come from `read_record` (once per key: the storage
// context shares a storage between the persistent ids that name it). Every device is mapped to the CPU.
c10::IValue Unpickle(const std::string& program, std::function<at::DataPtr(const std::string&)> read_record,
                     std::shared_ptr<torch::jit::DeserializationStorageContext> context) {
  size_t position = 0;
  torch::jit::Unpickler unpickler(
      [&program, &position](char* buffer, size_t size) {
        const size_t count = std::min(size, program.size() - position);
        std::memcpy(buffer, program.data() + position, count);
        position += count;
        return count;
      },
      /*type_resolver=*/nullptr, /*obj_loader=*/nullptr, std::move(read_record), c10::Device(c10::kCPU),
      /*use_storage_device=*/false, torch::jit::Unpickler::defaultTypeParser, std::move(context));
  return unpickler.parse_ivalue();
}

std::string LibTorchError(const std::exception& error) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&error)) return c10_error->what_without_backtrace();
  return error.what();
}

}  // namespace

bool IsLegacyTorchSave(std::string_view bytes) { return bytes.substr(0, kMagicPickle.size()) == kMagicPickle; }

absl::StatusOr<c10::IValue> ReadLegacyTorchSave(std::string_view bytes, const std::string& path) {
  if (!IsLegacyTorchSave(bytes)) {
    if (bytes.size() < kMagicPickle.size() && kMagicPickle.substr(0, bytes.size()) == bytes) {
      return Invalid(path, "the file ends at byte " + std::to_string(bytes.size()) + ", inside the magic number");
    }
    return absl::InvalidArgumentError(
        "'" + path +
        "' is not a torch.save file: it starts neither with a zip archive's \"PK\\x03\\x04\" (PyTorch >= "
        "1.6) nor with the legacy format's pickled magic number 0x1950a86a20f9469cfc6c (bytes " +
        Hex(kMagicPickle) + "); found " + Hex(bytes.substr(0, kMagicPickle.size())));
  }
  size_t at = kMagicPickle.size();
  if (bytes.substr(at, kVersionPickle.size()) != kVersionPickle) {
    return Invalid(path, "expected the format version 1001 pickled as " + Hex(kVersionPickle) + " at byte " +
                             std::to_string(at) + ", found " + Hex(bytes.substr(at, kVersionPickle.size())));
  }
  at += kVersionPickle.size();

  // 3. sys_info.
  const absl::StatusOr<size_t> sys_info_end = FindEndOfPickle(bytes, at);
  if (!sys_info_end.ok()) return Invalid(path, "sys_info: " + std::string(sys_info_end.status().message()));
  {
    PickleModel sys_info(bytes.substr(at, *sys_info_end - at), Dialect::kData, 0);
    const std::string where = "sys_info (pickle at byte " + std::to_string(at) + ")";
    if (absl::Status run = sys_info.Run(); !run.ok()) return Invalid(path, where + ": " + std::string(run.message()));
    if (sys_info.root().kind != Value::kDict) return Invalid(path, where + " is not a dict");
    const Value* version = Lookup(sys_info, sys_info.root(), "protocol_version");
    const Value* little_endian = Lookup(sys_info, sys_info.root(), "little_endian");
    if (version == nullptr || version->kind != Value::kInt || version->number != kProtocolVersion) {
      return Invalid(path, where + ": protocol_version is not 1001");
    }
    if (little_endian == nullptr || little_endian->kind != Value::kBool) {
      return Invalid(path, where + ": little_endian is missing or not a bool");
    }
    if (little_endian->number == 0) {
      return Invalid(path,
                     "written on a big-endian machine (sys_info little_endian is False); only little-endian "
                     "files are supported");
    }
  }
  at = *sys_info_end;

  // 4. The saved object: OrderedDicts rewritten as LibTorch needs them, then checked on the model.
  const absl::StatusOr<size_t> object_end = FindEndOfPickle(bytes, at);
  if (!object_end.ok()) return Invalid(path, "the saved object: " + std::string(object_end.status().message()));
  const std::string original(bytes.substr(at, *object_end - at));
  const std::string program = RewriteOrderedDictsAsDicts(original).value_or(original);
  PickleModel object(program, Dialect::kLibTorch, bytes.size());
  if (absl::Status run = object.Run(); !run.ok()) {
    return Invalid(path, "the saved object (pickle at byte " + std::to_string(at) + ", " +
                             (program == original ? "as written" : "with its OrderedDicts rewritten as dicts") +
                             "): " + std::string(run.message()));
  }
  const std::map<std::string, StorageInfo>& storages = object.storages();
  at = *object_end;

  // 5. The storage keys, in the order of the data section.
  const absl::StatusOr<size_t> keys_end = FindEndOfPickle(bytes, at);
  if (!keys_end.ok()) return Invalid(path, "the storage key list: " + std::string(keys_end.status().message()));
  std::vector<std::string> keys;
  {
    PickleModel key_list(bytes.substr(at, *keys_end - at), Dialect::kData, 0);
    const std::string where = "the storage key list (pickle at byte " + std::to_string(at) + ")";
    if (absl::Status run = key_list.Run(); !run.ok()) return Invalid(path, where + ": " + std::string(run.message()));
    if (key_list.root().kind != Value::kList) return Invalid(path, where + " is not a list");
    for (const uint32_t item : key_list.root().items) {
      if (key_list.value(item).kind != Value::kString) return Invalid(path, where + " holds a non-string");
      keys.emplace_back(key_list.value(item).text);
    }
  }
  at = *keys_end;

  // First pass through LibTorch, reading no data: the byte size LibTorch gives each storage, which must be what the
  // persistent ids say (the model above and LibTorch read the same program).
  auto sizing = std::make_shared<torch::jit::DeserializationStorageContext>();
  std::set<std::string> requested;
  try {
    Unpickle(
        program,
        [&requested](const std::string& key) {
          requested.insert(key);
          return at::DataPtr(nullptr, c10::Device(c10::kCPU));  // no data: nothing reads it in this pass
        },
        sizing);
  } catch (const std::exception& error) {
    return Invalid(path, "LibTorch's unpickler refused the saved object: " + LibTorchError(error));
  }
  std::map<std::string, uint64_t> nbytes;
  for (const auto& [key, info] : storages) {
    if (!sizing->hasStorage(key)) return Invalid(path, "LibTorch's unpickler did not see storage '" + key + "'");
    nbytes[key] = sizing->getStorage(key).nbytes();
    if (nbytes[key] != static_cast<uint64_t>(info.numel * info.element_size)) {
      return Invalid(path, "LibTorch sizes storage '" + key + "' as " + std::to_string(nbytes[key]) +
                               " bytes, its persistent id as " + std::to_string(info.numel) + " x " + info.type);
    }
  }
  for (const std::string& key : requested) {
    if (storages.count(key) == 0) return Invalid(path, "LibTorch's unpickler asked for unknown storage '" + key + "'");
  }

  // The data section: for each key in list order, its element count (8 bytes, little-endian) and its bytes.
  std::unordered_map<std::string, std::pair<size_t, size_t>> data;  // key -> offset, size
  for (const std::string& key : keys) {
    const auto info = storages.find(key);
    if (info == storages.end()) {
      return Invalid(path, "the storage key list names '" + key + "', which the saved object does not use");
    }
    if (data.count(key) != 0) return Invalid(path, "the storage key list names '" + key + "' twice");
    const std::string what =
        "storage '" + key + "' (" + std::to_string(info->second.numel) + " x torch." + info->second.type + ")";
    if (bytes.size() - at < 8) {
      return Invalid(path, "the file ends at byte " + std::to_string(bytes.size()) + ", inside the element count of " +
                               what + " at byte " + std::to_string(at) + " (truncated?)");
    }
    const uint64_t count = LittleEndian(bytes, at, 8);
    const uint64_t element_size = static_cast<uint64_t>(info->second.element_size);
    const uint64_t left = bytes.size() - at - 8;
    if (count > left / element_size) {
      return Invalid(path, "the data of " + what + " at byte " + std::to_string(at) + " states " +
                               std::to_string(count) + " elements, but only " + std::to_string(left) +
                               " bytes follow (truncated?)");
    }
    if (count * element_size != nbytes[key]) {
      return Invalid(path, "the data of " + what + " at byte " + std::to_string(at) + " states " +
                               std::to_string(count) + " elements, the pickle " + std::to_string(info->second.numel));
    }
    data[key] = {at + 8, static_cast<size_t>(nbytes[key])};
    at += 8 + static_cast<size_t>(nbytes[key]);
  }
  for (const auto& [key, info] : storages) {
    if (data.count(key) == 0) {
      return Invalid(path, "storage '" + key + "' is used by the saved object but missing from the storage key list");
    }
  }
  if (at != bytes.size()) {
    return Invalid(path, std::to_string(bytes.size() - at) + " bytes follow the data of the last storage (at byte " +
                             std::to_string(at) + "; expected the end of the file)");
  }

  // Second pass: the same program, each storage read from its place in the data section.
  try {
    return Unpickle(
        program,
        [&data, bytes](const std::string& key) {
          const auto it = data.find(key);
          TORCH_CHECK(it != data.end(), "no data for storage '", key, "'");  // excluded by the checks above
          at::DataPtr storage = c10::GetCPUAllocator()->allocate(it->second.second);
          std::memcpy(storage.get(), bytes.data() + it->second.first, it->second.second);
          return storage;
        },
        std::make_shared<torch::jit::DeserializationStorageContext>());
  } catch (const std::exception& error) {
    return Invalid(path, "LibTorch's unpickler refused the saved object: " + LibTorchError(error));
  }
}

namespace {

constexpr std::array<uint32_t, 64> kSha256RoundConstants = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

uint32_t RotateRight(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

void Sha256Block(const unsigned char* block, std::array<uint32_t, 8>& state) {
  uint32_t w[64];
  for (int t = 0; t < 16; ++t) {
    w[t] = (uint32_t{block[4 * t]} << 24) | (uint32_t{block[4 * t + 1]} << 16) | (uint32_t{block[4 * t + 2]} << 8) |
           uint32_t{block[4 * t + 3]};
  }
  for (int t = 16; t < 64; ++t) {
    const uint32_t s0 = RotateRight(w[t - 15], 7) ^ RotateRight(w[t - 15], 18) ^ (w[t - 15] >> 3);
    const uint32_t s1 = RotateRight(w[t - 2], 17) ^ RotateRight(w[t - 2], 19) ^ (w[t - 2] >> 10);
    w[t] = w[t - 16] + s0 + w[t - 7] + s1;
  }
  uint32_t a = state[0], b = state[1], c = state[2], d = state[3], e = state[4], f = state[5], g = state[6],
           h = state[7];
  for (int t = 0; t < 64; ++t) {
    const uint32_t sum1 = RotateRight(e, 6) ^ RotateRight(e, 11) ^ RotateRight(e, 25);
    const uint32_t choose = (e & f) ^ (~e & g);
    const uint32_t temp1 = h + sum1 + choose + kSha256RoundConstants[t] + w[t];
    const uint32_t sum0 = RotateRight(a, 2) ^ RotateRight(a, 13) ^ RotateRight(a, 22);
    const uint32_t majority = (a & b) ^ (a & c) ^ (b & c);
    const uint32_t temp2 = sum0 + majority;
    h = g;
    g = f;
    f = e;
    e = d + temp1;
    d = c;
    c = b;
    b = a;
    a = temp1 + temp2;
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
  state[4] += e;
  state[5] += f;
  state[6] += g;
  state[7] += h;
}

}  // namespace

std::string Sha256Hex(std::string_view bytes) {
  std::array<uint32_t, 8> state = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t whole = bytes.size() / 64 * 64;
  for (size_t at = 0; at < whole; at += 64) Sha256Block(data + at, state);
  // The rest, 0x80, zeros, and the length in bits (64-bit big-endian): one or two blocks.
  unsigned char tail[128] = {};
  const size_t rest = bytes.size() - whole;
  if (rest > 0) std::memcpy(tail, data + whole, rest);
  tail[rest] = 0x80;
  const size_t tail_size = rest < 56 ? 64 : 128;
  const uint64_t bits = static_cast<uint64_t>(bytes.size()) * 8;
  for (int i = 0; i < 8; ++i) tail[tail_size - 1 - i] = static_cast<unsigned char>(bits >> (8 * i));
  for (size_t at = 0; at < tail_size; at += 64) Sha256Block(tail + at, state);
  std::string hex;
  for (const uint32_t word : state) {
    char digits[9];
    std::snprintf(digits, sizeof(digits), "%08x", word);
    hex += digits;
  }
  return hex;
}

absl::Status CheckHashPrefixInFileName(std::string_view bytes, const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  constexpr std::string_view kExtension = ".pth";
  if (name.size() <= kExtension.size() ||
      name.compare(name.size() - kExtension.size(), kExtension.size(), kExtension) != 0) {
    return absl::OkStatus();
  }
  const std::string stem = name.substr(0, name.size() - kExtension.size());
  const size_t dash = stem.rfind('-');
  if (dash == std::string::npos || dash == 0) return absl::OkStatus();
  const std::string prefix = stem.substr(dash + 1);
  const bool hex = prefix.size() >= 8 && prefix.size() <= 64 && std::all_of(prefix.begin(), prefix.end(), [](char c) {
                     return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                   });
  if (!hex) return absl::OkStatus();
  const std::string digest = Sha256Hex(bytes);
  if (digest.compare(0, prefix.size(), prefix) == 0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      "'" + path + "': the hash prefix in its name, " + prefix + ", does not match the file's SHA-256 " + digest +
      " (torch.hub names a download NAME-<first hex digits of its SHA-256>.pth: the file is damaged, truncated or not "
      "the published one; a file of your own named this way must be renamed)");
}

}  // namespace mobilenet
