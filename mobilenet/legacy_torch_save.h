// Reads torch.save's legacy format (PyTorch < 1.6, or torch.save(..., _use_new_zipfile_serialization=False)): the
// format of torchvision's original weight files such as mobilenet_v2-b0353104.pth. Also the SHA-256 file-name check
// that torch.hub applies to such downloads.
//
// The legacy format is a run of pickles (protocol 2) followed by the raw tensor data:
//   1. the magic number 0x1950a86a20f9469cfc6c, 2. the format version 1001,
//   3. sys_info {"protocol_version": 1001, "little_endian": True, "type_sizes": {...}},
//   4. the saved object, whose storages are persistent ids ("storage", torch.<T>Storage, key, location, numel, None),
//   5. the list of storage keys;
// then, for each key in that list's order, its element count (8 bytes, little-endian) and its bytes.
//
// LibTorch 1.13 cannot read this layout itself: its unpickler reads ahead in 256-byte blocks (so it cannot say where
// a pickle ended), lacks APPEND and SETITEM (a one-storage key list is `]X...a`), and cannot read the 80-bit magic
// number. So this reader compares pickles 1 and 2 byte for byte, evaluates 3 and 5 itself, and checks pickle 4 - the
// only one LibTorch runs - on a model of the unpickler's stack first (only the opcodes, globals and persistent ids a
// state dict uses; nesting and memo references bounded), so that malformed input is an error and never reaches
// LibTorch's unchecked paths.
#ifndef MOBILENET_LEGACY_TORCH_SAVE_H_
#define MOBILENET_LEGACY_TORCH_SAVE_H_

#include <ATen/core/ivalue.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mobilenet {

// True when `bytes` start with the pickled magic number of the legacy format (as torch.save writes it with its
// default pickle_protocol=2).
bool IsLegacyTorchSave(std::string_view bytes);

// The object a legacy torch.save file holds (for a state dict: a dict of name -> CPU tensor; tensors saved from a GPU
// are read to the CPU), its tensors holding their data; tensors that shared a storage when saved (views) share one
// here. Any damage - unknown magic number, a big-endian file, a truncated pickle or data section, an element count
// that disagrees with the pickle, trailing bytes, a storage key missing from the key list, an opcode or Python global
// a state dict does not use - is an InvalidArgument error naming `path` and what was expected. The tensors' shapes are
// not checked against their storages here (the caller does that).
absl::StatusOr<c10::IValue> ReadLegacyTorchSave(std::string_view bytes, const std::string& path);

// SHA-256 (FIPS 180-4) of `bytes` as 64 lowercase hex digits.
std::string Sha256Hex(std::string_view bytes);

// torch.hub names a downloaded weight file NAME-HASH.pth, HASH being the first 8 or more hex digits of the file's
// SHA-256 (mobilenet_v2-b0353104.pth). When the file name of `path` has that form (HASH: 8 to 64 lowercase hex digits
// after the last '-', extension .pth), checks HASH against the SHA-256 of `bytes`: a mismatch is an InvalidArgument
// error naming the file, the prefix and the digest. Other names are not checked (OK).
absl::Status CheckHashPrefixInFileName(std::string_view bytes, const std::string& path);

}  // namespace mobilenet

#endif  // MOBILENET_LEGACY_TORCH_SAVE_H_
