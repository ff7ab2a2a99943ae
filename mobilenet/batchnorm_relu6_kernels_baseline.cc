// The kernels for baseline x86-64 (or whatever the target is elsewhere), and the run-time choice between builds.
#include <atomic>
#include <cstdint>
#include <cstring>

#include "mobilenet/batchnorm_relu6_kernels.h"

namespace mobilenet {
namespace kernels_baseline {
#include "mobilenet/batchnorm_relu6_kernels.inc"
}  // namespace kernels_baseline

const BatchNormReLU6Kernels& BaselineKernels() { return kernels_baseline::kKernels; }

#if !defined(__x86_64__)
const BatchNormReLU6Kernels& Avx2Kernels() { return kernels_baseline::kKernels; }
const BatchNormReLU6Kernels& Avx512Kernels() { return kernels_baseline::kKernels; }
#endif

const char* KernelIsaName(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::kAvx2: return "avx2";
    case KernelIsa::kAvx512: return "avx512";
    default: return "baseline";
  }
}

bool CpuSupports(KernelIsa isa) {
#if defined(__x86_64__) && defined(__GNUC__)
  switch (isa) {
    case KernelIsa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2");
    case KernelIsa::kAvx512:
      return CpuSupports(KernelIsa::kAvx2) && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vl");
    default: return true;
  }
#else
  return isa == KernelIsa::kBaseline;
#endif
}

namespace {

KernelIsa BestSupported() {
  if (CpuSupports(KernelIsa::kAvx512)) return KernelIsa::kAvx512;
  if (CpuSupports(KernelIsa::kAvx2)) return KernelIsa::kAvx2;
  return KernelIsa::kBaseline;
}

std::atomic<KernelIsa>& Active() {
  static std::atomic<KernelIsa> active{BestSupported()};
  return active;
}

}  // namespace

KernelIsa ActiveKernelIsa() { return Active().load(std::memory_order_relaxed); }

bool SetKernelIsa(KernelIsa isa) {
  if (!CpuSupports(isa)) return false;
  Active().store(isa, std::memory_order_relaxed);
  return true;
}

const BatchNormReLU6Kernels& ActiveKernels() {
  switch (ActiveKernelIsa()) {
    case KernelIsa::kAvx512: return Avx512Kernels();
    case KernelIsa::kAvx2: return Avx2Kernels();
    default: return BaselineKernels();
  }
}

}  // namespace mobilenet
