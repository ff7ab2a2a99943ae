#include "trainer/outputs/checkpoint.h"

#include <ATen/core/Generator.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/serialize/archive.h>

#include <mutex>
#include <sstream>

#include "tools/cc/atomic_file.h"

namespace trainer {
namespace {

torch::Tensor Scalar(int64_t value) { return torch::tensor(value, torch::kInt64); }

// Module::save/load are not const; the archive only reads parameters and buffers.
torch::nn::Module& Mutable(const torch::nn::Module& module) { return const_cast<torch::nn::Module&>(module); }

}  // namespace

absl::Status WriteCheckpoint(const std::string& path, const torch::nn::Module& model,
                             const torch::optim::Optimizer& optimizer, const torch::nn::Module* ema,
                             const TrainingProgress& progress) {
  std::ostringstream bytes;
  try {
    torch::serialize::OutputArchive archive;
    torch::serialize::OutputArchive model_archive;
    Mutable(model).save(model_archive);
    archive.write("model", model_archive);
    torch::serialize::OutputArchive optimizer_archive;
    optimizer.save(optimizer_archive);
    archive.write("optimizer", optimizer_archive);
    if (ema != nullptr) {
      torch::serialize::OutputArchive ema_archive;
      Mutable(*ema).save(ema_archive);
      archive.write("ema", ema_archive);
    }
    archive.write("epochs_completed", Scalar(progress.epochs_completed));
    archive.write("steps_into_epoch", Scalar(progress.steps_into_epoch));
    archive.write("global_step", Scalar(progress.global_step));
    archive.write("skipped_steps", Scalar(progress.skipped_steps));
    archive.write("best_metric", torch::tensor(progress.best_metric, torch::kFloat64));
    archive.write("best_epoch", Scalar(progress.best_epoch));
    archive.write("config_hash", c10::IValue(progress.config_hash));
    archive.write("loss_scale", torch::tensor(progress.loss_scale, torch::kFloat64));
    archive.write("loss_scale_good_steps", Scalar(progress.loss_scale_good_steps));
    std::string class_names;
    for (const std::string& name : progress.class_names) class_names += name + "\n";
    archive.write("class_names", c10::IValue(class_names));
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    {
      std::lock_guard<std::mutex> lock(generator.mutex());
      archive.write("cpu_rng_state", generator.get_state());
    }
    archive.save_to(bytes);
  } catch (const c10::Error& error) {
    return absl::InternalError("cannot serialise checkpoint '" + path + "': " + error.what_without_backtrace());
  }
  return coco::WriteFileAtomically(path, bytes.str());
}

absl::Status ReadCheckpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                            torch::nn::Module* ema, TrainingProgress& progress) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    model.load(model_archive);
    torch::serialize::InputArchive optimizer_archive;
    archive.read("optimizer", optimizer_archive);
    optimizer.load(optimizer_archive);
    if (ema != nullptr) {
      torch::serialize::InputArchive ema_archive;
      if (!archive.try_read("ema", ema_archive)) {
        return absl::InvalidArgumentError("checkpoint '" + path + "' has no EMA weights but the config enables EMA");
      }
      ema->load(ema_archive);
    }
    torch::Tensor value;
    archive.read("epochs_completed", value);
    progress.epochs_completed = value.item<int64_t>();
    // Absent from checkpoints written before mid-epoch checkpoints existed: those are all at epoch boundaries.
    progress.steps_into_epoch = archive.try_read("steps_into_epoch", value) ? value.item<int64_t>() : 0;
    archive.read("global_step", value);
    progress.global_step = value.item<int64_t>();
    archive.read("skipped_steps", value);
    progress.skipped_steps = value.item<int64_t>();
    archive.read("best_metric", value);
    progress.best_metric = value.item<double>();
    archive.read("best_epoch", value);
    progress.best_epoch = value.item<int64_t>();
    c10::IValue hash;
    archive.read("config_hash", hash);
    progress.config_hash = hash.toStringRef();
    archive.read("loss_scale", value);
    progress.loss_scale = value.item<double>();
    archive.read("loss_scale_good_steps", value);
    progress.loss_scale_good_steps = value.item<int64_t>();
    c10::IValue class_names;
    progress.class_names.clear();
    if (archive.try_read("class_names", class_names)) {
      std::string names = class_names.toStringRef();
      for (size_t start = 0, end; (end = names.find('\n', start)) != std::string::npos; start = end + 1) {
        progress.class_names.push_back(names.substr(start, end - start));
      }
    }
    torch::Tensor rng_state;
    archive.read("cpu_rng_state", rng_state);
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(rng_state);
  } catch (const c10::Error& error) {
    return absl::DataLossError("cannot read checkpoint '" + path + "': " + error.what_without_backtrace());
  }
  return absl::OkStatus();
}

}  // namespace trainer
