// Fuzz target: the torch.save state-dict reader (zip archive, pickle, the OrderedDict rewriter it retries with) and
// loading what it read into a small model, as fine-tuning and evaluation do.
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "mobilenet/mobilenet.h"
#include "mobilenet/pickle_rewrite.h"
#include "mobilenet/state_dict_io.h"
#include "tools/fuzz/input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The rewriter alone, on the input as a bare pickle and as an archive.
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  mobilenet::RewriteOrderedDictsAsDicts(bytes);
  mobilenet::RewriteArchiveOrderedDicts(std::vector<char>(bytes.begin(), bytes.end()));

  const std::string path = coco::fuzz::WriteInputFile(data, size, ".pt");
  absl::StatusOr<mobilenet::StateDict> state = mobilenet::ReadStateDict(path);
  if (!state.ok()) return 0;
  // torchvision's layout at width 0.35 with 10 classes, as testdata/torchvision_v2_w035_c10_state_dict.pt.
  static mobilenet::MobileNet model = [] {
    torch::set_num_threads(1);
    return mobilenet::MobileNet(mobilenet::MobileNetOptions().width_mult(0.35).num_classes(10));
  }();
  mobilenet::LoadStateDict(*model, *state);
  return 0;
}
