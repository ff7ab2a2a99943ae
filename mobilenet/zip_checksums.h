// Checks the CRC-32 that a zip archive stores for each record, as torch.save's files are zip archives: LibTorch 1.13's
// reader skips these checks, so without this a flipped bit in a weight file would load as a different weight.
#ifndef MOBILENET_ZIP_CHECKSUMS_H_
#define MOBILENET_ZIP_CHECKSUMS_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace mobilenet {

// OK when every stored (uncompressed) record of the archive `bytes` matches its central-directory CRC-32; otherwise
// a DATA_LOSS error naming `path` and the damage (a record's CRC mismatch, or an index that is cut off or points
// outside the file, as after truncation). Bytes that do not start like a zip archive are left to the caller's
// reader; compressed records, which torch.save never writes, are not checked.
absl::Status VerifyZipChecksums(std::string_view bytes, const std::string& path);

}  // namespace mobilenet

#endif  // MOBILENET_ZIP_CHECKSUMS_H_
