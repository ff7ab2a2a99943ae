#include "trainer/outputs/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/Generator.h>
#include <torch/serialize/archive.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "glog/logging.h"
#include "mobilenet/zip_checksums.h"
#include "tools/cc/atomic_file.h"
#include "tools/cc/status_macros.h"
#include "trainer/outputs/crc32c.h"

namespace trainer {
namespace {

torch::Tensor Scalar(int64_t value) { return torch::tensor(value, torch::kInt64); }

// Module::save/load are not const; the archive only reads parameters and buffers.
torch::nn::Module& Mutable(const torch::nn::Module& module) { return const_cast<torch::nn::Module&>(module); }

// The checksum footer (checkpoint.h). The zip's own per-record CRC-32s are not enough: LibTorch 1.13's reader checks
// none of them (a flipped weight would load as another weight), and they do not cover the archive's index.
constexpr std::string_view kFooterMagic = "CocoCkpt";
constexpr uint32_t kFooterVersion = 1;
constexpr size_t kFooterSize = 16;
// A zip archive ends with its 22-byte end-of-central-directory record (no comment in torch's archives).
constexpr std::string_view kZipEndSignature = std::string_view("PK\x05\x06", 4);
constexpr size_t kZipEndSize = 22;

std::string LittleEndian32(uint32_t value) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xFF);
  return out;
}

uint32_t ReadLittleEndian32(std::string_view bytes) {
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

std::string Hex(uint32_t value) { return absl::StrFormat("0x%08x", value); }

}  // namespace

absl::StatusOr<std::string_view> VerifyCheckpointBytes(const std::string& path, std::string_view file, bool& verified) {
  const std::string size = absl::StrCat(file.size(), " bytes");
  if (file.size() >= kFooterSize && file.substr(file.size() - kFooterSize, kFooterMagic.size()) == kFooterMagic) {
    const std::string_view archive = file.substr(0, file.size() - kFooterSize);
    const std::string_view footer = file.substr(archive.size());
    const uint32_t version = ReadLittleEndian32(footer.substr(12));
    if (version != kFooterVersion) {
      return absl::DataLossError(absl::StrCat("checkpoint '", path, "' has checksum footer version ", version,
                                              "; this build reads version ", kFooterVersion));
    }
    const uint32_t recorded = ReadLittleEndian32(footer.substr(8));
    const uint32_t actual = Crc32c(archive);
    if (actual != recorded) {
      return absl::DataLossError("checkpoint '" + path + "' is corrupt: the CRC-32C of its contents is " + Hex(actual) +
                                 " but its footer records " + Hex(recorded) + " (" + size +
                                 "; damaged on disk or in a copy)");
    }
    verified = true;
    return archive;
  }
  if (file.size() >= kZipEndSize && file.substr(file.size() - kZipEndSize, 4) == kZipEndSignature) {
    // Written before the footer: the records' own CRC-32s are all there is to check.
    verified = false;
    if (absl::Status intact = mobilenet::VerifyZipChecksums(file, path); !intact.ok()) return intact;
    return file;
  }
  return absl::DataLossError("checkpoint '" + path + "' is truncated or not a checkpoint: its " + size +
                             " end with neither the checksum footer nor a zip end record");
}

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
    archive.write("best_is_ema", Scalar(progress.best_is_ema ? 1 : 0));
    archive.write("config_hash", c10::IValue(progress.config_hash));
    archive.write("loss_scale", torch::tensor(progress.loss_scale, torch::kFloat64));
    archive.write("loss_scale_good_steps", Scalar(progress.loss_scale_good_steps));
    archive.write("train_seconds", torch::tensor(progress.train_seconds, torch::kFloat64));
    archive.write("images_trained", Scalar(progress.images_trained));
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
  std::string file = std::move(bytes).str();
  const uint32_t checksum = Crc32c(file);
  file.append(kFooterMagic);
  file += LittleEndian32(checksum);
  file += LittleEndian32(kFooterVersion);
  return coco::WriteFileAtomically(path, file);
}

absl::Status ReadCheckpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                            torch::nn::Module* ema, TrainingProgress& progress) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot open checkpoint '" + path + "': " + std::strerror(errno));
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return absl::DataLossError("cannot read checkpoint '" + path + "': " + std::strerror(errno));
  bool verified = false;
  ASSIGN_OR_RETURN(const std::string_view bytes, VerifyCheckpointBytes(path, file, verified));
  if (!verified) {
    LOG(WARNING) << "Checkpoint '" << path << "' has no checksum footer (written before checkpoints carried one); "
                 << "loading it with only its zip records' CRC-32s checked";
  }
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(bytes.data(), bytes.size());
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
    // A fresh tensor per field: reading into an existing tensor keeps that tensor's dtype, so a double read after an
    // int64 would come back as the double's bits taken for an integer.
    const auto read_scalar = [&archive](const char* name) {
      torch::Tensor value;
      archive.read(name, value);
      return value;
    };
    progress.epochs_completed = read_scalar("epochs_completed").item<int64_t>();
    // Absent from checkpoints written before mid-epoch checkpoints existed: those are all at epoch boundaries.
    torch::Tensor steps_into_epoch;
    progress.steps_into_epoch =
        archive.try_read("steps_into_epoch", steps_into_epoch) ? steps_into_epoch.item<int64_t>() : 0;
    progress.global_step = read_scalar("global_step").item<int64_t>();
    progress.skipped_steps = read_scalar("skipped_steps").item<int64_t>();
    progress.best_metric = read_scalar("best_metric").item<double>();
    progress.best_epoch = read_scalar("best_epoch").item<int64_t>();
    torch::Tensor best_is_ema;  // absent from older checkpoints, whose best were the raw weights
    progress.best_is_ema = archive.try_read("best_is_ema", best_is_ema) && best_is_ema.item<int64_t>() == 1;
    c10::IValue hash;
    archive.read("config_hash", hash);
    progress.config_hash = hash.toStringRef();
    progress.loss_scale = read_scalar("loss_scale").item<double>();
    progress.loss_scale_good_steps = read_scalar("loss_scale_good_steps").item<int64_t>();
    torch::Tensor train_seconds, images_trained;  // absent from older checkpoints
    progress.train_seconds = archive.try_read("train_seconds", train_seconds) ? train_seconds.item<double>() : 0.0;
    progress.images_trained = archive.try_read("images_trained", images_trained) ? images_trained.item<int64_t>() : 0;
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
    // With the checksum intact the bytes are what was written: they were written for other modules.
    if (verified) {
      return absl::FailedPreconditionError("checkpoint '" + path +
                                           "' is intact but does not fit the model and "
                                           "optimizer this config builds: " +
                                           error.what_without_backtrace());
    }
    return absl::DataLossError("cannot read checkpoint '" + path + "': " + error.what_without_backtrace());
  } catch (const std::exception& error) {
    // LibTorch's unpickler also throws std::out_of_range and others on malformed archives (found by
    // checkpoint_fuzzer); without this handler they ended the process.
    return absl::DataLossError("cannot read checkpoint '" + path + "': its archive is malformed (" + error.what() +
                               ")");
  }
  return absl::OkStatus();
}

}  // namespace trainer
