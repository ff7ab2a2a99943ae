// Test-only: writes tiny exported models for the runtime tests, with LibTorch's logits for fixed inputs.
// Usage: write_onnx_fixtures OUT_DIR. Writes <name>.onnx, <name>.input.bin, <name>.logits.bin (raw little-endian
// float32, row-major) and manifest.tsv: name, opset, input shape (comma-separated), whether the graph has a
// probabilities output.
#include <ATen/ATen.h>
#include <torch/utils.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "trainer/onnx/onnx_export.h"
#include "trainer/onnx/onnx_verify.h"
#include "trainer/onnx/test_models.h"

namespace {

void WriteFloats(const std::string& path, const at::Tensor& tensor) {
  const at::Tensor data = tensor.contiguous();
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data_ptr<float>()), data.numel() * sizeof(float));
  TORCH_CHECK(out.good(), "cannot write ", path);
}

struct Fixture {
  trainer::TestModelSpec spec;
  int64_t opset;
  bool normalize_and_sigmoid;  // with a fixed batch of 2
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  std::vector<Fixture> fixtures;
  for (auto arch : {mobilenet::Arch::kV1, mobilenet::Arch::kV2}) {
    for (int64_t output_stride : {32, 8}) {
      for (int64_t opset : {13, 10}) {
        trainer::TestModelSpec spec;
        spec.arch = arch;
        spec.output_stride = output_stride;  // the seed stays 1: the models of onnx_export_test and onnx_opencv_test
        fixtures.push_back({spec, opset, false});
      }
    }
  }
  trainer::TestModelSpec extra;
  extra.output_stride = 16;
  extra.seed = 99;
  fixtures.push_back({extra, 13, true});
  trainer::TestModelSpec max_pool_head;  // the spatial max head: Conv, GlobalMaxPool, Mul in place of Gemm
  max_pool_head.output_stride = 16;
  max_pool_head.max_pool_weight = 0.6;
  fixtures.push_back({max_pool_head, 13, false});

  std::ofstream manifest(dir + "/manifest.tsv");
  for (size_t index = 0; index < fixtures.size(); ++index) {
    const Fixture& fixture = fixtures[index];
    mobilenet::MobileNet model = trainer::MakeTestModel(fixture.spec);
    trainer::OnnxExportOptions options;
    options.opset = fixture.opset;
    options.input_size = fixture.spec.input_size;
    options.normalize_in_graph = fixture.normalize_and_sigmoid;
    options.sigmoid_output = fixture.normalize_and_sigmoid;
    options.batch = fixture.normalize_and_sigmoid ? 2 : 0;
    auto exported = trainer::ExportMobileNetToOnnx(*model, options);
    TORCH_CHECK(exported.ok(), exported.status().ToString());
    const auto checked = trainer::CheckOnnxModel(*exported);
    TORCH_CHECK(checked.ok(), checked.ToString());
    std::string name = absl::StrCat(trainer::TestModelName(fixture.spec), "_opset", fixture.opset);
    if (fixture.normalize_and_sigmoid) name += "_normalized_sigmoid_b2";
    std::ofstream(dir + "/" + name + ".onnx", std::ios::binary) << exported->SerializeAsString();

    // A dynamic batch is run with 3 images (the graph was written with none in mind); images are [0, 1] pixels
    // when the graph normalises them, standard normal otherwise.
    const int64_t batch = options.batch > 0 ? options.batch : 3;
    torch::manual_seed(1000 + index);
    const std::vector<int64_t> shape = {batch, 3, options.input_size, options.input_size};
    const at::Tensor input = options.normalize_in_graph ? at::rand(shape) : at::randn(shape);
    at::Tensor model_input = input;
    if (options.normalize_in_graph) {
      const at::Tensor mean = at::tensor(at::ArrayRef<float>(options.mean.data(), 3)).reshape({1, 3, 1, 1});
      const at::Tensor std = at::tensor(at::ArrayRef<float>(options.std.data(), 3)).reshape({1, 3, 1, 1});
      model_input = (input - mean) / std;
    }
    torch::NoGradGuard no_grad;
    const at::Tensor logits = model->forward(model_input.clone());
    WriteFloats(dir + "/" + name + ".input.bin", input);
    WriteFloats(dir + "/" + name + ".logits.bin", logits);
    manifest << name << "\t" << fixture.opset << "\t" << shape[0] << "," << shape[1] << "," << shape[2] << ","
             << shape[3] << "\t" << (options.sigmoid_output ? "probabilities" : "-") << "\n";
  }
  return manifest.good() ? 0 : 1;
}
