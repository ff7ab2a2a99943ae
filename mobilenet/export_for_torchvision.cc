// Test helper: writes a randomly initialised MobileNetV2 (width 0.35, 10 classes) state dict, an input and the C++
// eval-mode output, for testdata/make_torchvision_fixture.py's `check` mode.
//   export_for_torchvision STATE_DICT.pt IO.pt
#include <torch/torch.h>

#include <fstream>
#include <iostream>

#include "mobilenet/mobilenet.h"
#include "mobilenet/state_dict_io.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: " << argv[0] << " STATE_DICT.pt IO.pt\n";
    return 2;
  }
  torch::manual_seed(11);
  mobilenet::MobileNet model(
      mobilenet::MobileNetOptions().width_mult(0.35).num_classes(10).init(mobilenet::InitScheme::kTorchvision));
  // Train-mode passes move the BatchNorm statistics away from 0 / 1, so eval mode exercises them.
  {
    torch::NoGradGuard no_grad;
    model->train();
    for (int i = 0; i < 3; ++i) model->forward(torch::randn({4, 3, 64, 64}) * 2 + 0.5);
  }
  model->eval();
  const torch::Tensor input = torch::randn({2, 3, 64, 64});
  torch::Tensor output;
  {
    torch::NoGradGuard no_grad;
    output = model->forward(input);
  }
  const absl::Status written = mobilenet::WriteStateDict(mobilenet::GetStateDict(*model), argv[1]);
  if (!written.ok()) {
    std::cerr << written << "\n";
    return 1;
  }
  c10::Dict<std::string, torch::Tensor> io;
  io.insert("input", input);
  io.insert("output", output);
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(io));
  std::ofstream(argv[2], std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  std::cout << "wrote " << argv[1] << " and " << argv[2] << "\n";
  return 0;
}
