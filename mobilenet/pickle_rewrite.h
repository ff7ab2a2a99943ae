// Makes Python state dicts readable by LibTorch 1.13: torch.save(model.state_dict()) pickles a
// collections.OrderedDict (with a `_metadata` attribute), which LibTorch's unpickler turns into None.
//
// Why a rewriter and not a library: the pickle must end up in LibTorch's own unpickler (it resolves the tensor
// storages inside the same zip archive), and the only other pickle readers in Debian 12 are Python's. Rewriting the
// few opcodes that unpickler rejects keeps LibTorch doing the real work; the archive is re-packed with LibTorch's
// own zip writer (PyTorchStreamWriter).
#ifndef MOBILENET_PICKLE_REWRITE_H_
#define MOBILENET_PICKLE_REWRITE_H_

#include <optional>
#include <string>
#include <vector>

namespace mobilenet {

// Rewrites a pickle program (protocol 2, as torch.save writes) so that every `collections.OrderedDict()` becomes an
// empty dict, every BUILD (setting an object's attributes; in a state dict only OrderedDict's `_metadata`) is
// cut out together with its state, and every SETITEM (which LibTorch's unpickler lacks) becomes MARK ... SETITEMS.
// Returns std::nullopt when the program uses an opcode this rewriter does not know, or an OrderedDict in an unexpected
// way; the caller then reports the original error.
std::optional<std::string> RewriteOrderedDictsAsDicts(const std::string& pickle);

// The same for a whole torch.save zip archive: rewrites its data.pkl record and returns the re-packed archive.
std::optional<std::vector<char>> RewriteArchiveOrderedDicts(const std::vector<char>& archive);

}  // namespace mobilenet

#endif  // MOBILENET_PICKLE_REWRITE_H_
