// Fuzz target: what the training checkpoint reader (--resume) checks before LibTorch sees the file - the checksum
// footer, truncation, and for the old no-footer format the zip archive's index and record CRC-32s
// (mobilenet/zip_checksums.cc, which the state-dict reader also uses).
//
// LibTorch's archive reader behind those checks is not fuzzed here. An earlier version of this harness restored every
// input whose checks passed: it found a std::out_of_range escaping ReadCheckpoint (fixed; the input is in
// testdata/malformed_archive_valid_footer.ckpt, replayed through ReadCheckpoint by checkpoint_test), then, within a
// minute, a SEGV inside LibTorch 1.13's TorchScript importer (ScriptTypeParser::parseClassConstant, on a mutated code/
// entry) that this repository cannot fix. Checkpoints are trusted input, like any torch.save file; the checksum keeps
// accidental damage away from that code. libFuzzer can learn a CRC from the comparison that checks it, so restoring
// here would keep finding LibTorch's bug.
//
// Invariants (checkpoint.h, zip_checksums.h): a refused file is a DATA_LOSS error naming it; a verified file is its
// archive followed by the documented footer ("CocoCkpt", CRC-32C of the archive, version 1) and VerifyCheckpointBytes
// returns exactly that archive; an unverified one (the old format) is returned whole and passes the zip CRC-32 checks.
// Round trip: any bytes sealed with the footer as WriteCheckpoint writes it verify and give those bytes back, and
// changing any one byte of the sealed archive makes it a DATA_LOSS error.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "mobilenet/zip_checksums.h"
#include "tools/fuzz/fuzz_check.h"
#include "trainer/outputs/checkpoint.h"
#include "trainer/outputs/crc32c.h"

namespace {

std::string LittleEndian32(uint32_t value) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xFF);
  return out;
}

// The footer checkpoint.h documents: "CocoCkpt", the CRC-32C of the archive, the version 1 (little-endian).
std::string Footer(std::string_view archive) {
  return "CocoCkpt" + LittleEndian32(trainer::Crc32c(archive)) + LittleEndian32(1);
}

void CheckRefusal(const absl::Status& status, const std::string& path) {
  FUZZ_CHECK(status.code() == absl::StatusCode::kDataLoss, "a refused file is not DATA_LOSS: " + status.ToString());
  FUZZ_CHECK(std::string(status.message()).find("'" + path + "'") != std::string::npos,
             "an error must name the file: " + status.ToString());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view file(reinterpret_cast<const char*>(data), size);
  bool verified = false;
  const absl::StatusOr<std::string_view> archive = trainer::VerifyCheckpointBytes("fuzz.ckpt", file, verified);
  if (!archive.ok()) {
    CheckRefusal(archive.status(), "fuzz.ckpt");
  } else if (verified) {
    FUZZ_CHECK(archive->data() == file.data() && archive->size() + 16 == file.size(),
               "a verified archive is not the file less its 16-byte footer");
    FUZZ_CHECK(file.substr(archive->size()) == Footer(*archive), "verified a file whose footer is not its checksum");
  } else {
    FUZZ_CHECK(archive->data() == file.data() && archive->size() == file.size(), "an old-format file is not whole");
    const absl::Status intact = mobilenet::VerifyZipChecksums(file, "fuzz.ckpt");
    FUZZ_CHECK(intact.ok(), "an old-format file passed with bad zip CRC-32s: " + intact.ToString());
  }

  const absl::Status zip = mobilenet::VerifyZipChecksums(file, "fuzz.pt");
  if (!zip.ok()) CheckRefusal(zip, "fuzz.pt");

  // Round trip: the input sealed as WriteCheckpoint seals its archive.
  const std::string sealed = std::string(file) + Footer(file);
  bool sealed_verified = false;
  const absl::StatusOr<std::string_view> unsealed =
      trainer::VerifyCheckpointBytes("sealed.ckpt", sealed, sealed_verified);
  FUZZ_CHECK(unsealed.ok() && sealed_verified, "a sealed file does not verify: " + unsealed.status().ToString());
  FUZZ_CHECK(*unsealed == file, "a sealed file verifies to other bytes");
  // One damaged byte anywhere in the archive (position and change chosen by the input).
  if (size > 0) {
    std::string damaged = sealed;
    const size_t at = (static_cast<size_t>(data[0]) * 131 + size) % size;
    damaged[at] = static_cast<char>(damaged[at] ^ (data[size - 1] | 1));
    bool damaged_verified = false;
    const absl::StatusOr<std::string_view> refused =
        trainer::VerifyCheckpointBytes("damaged.ckpt", damaged, damaged_verified);
    FUZZ_CHECK(!refused.ok(), absl::StrCat("a byte changed at ", at, " went unnoticed"));
    CheckRefusal(refused.status(), "damaged.ckpt");
  }
  return 0;
}
