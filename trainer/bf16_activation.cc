#include "trainer/bf16_activation.h"

#include <ATen/ATen.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/library.h>

namespace trainer {
namespace {

at::Tensor HardtanhAsClamp(const at::Tensor& self, const at::Scalar& min_value, const at::Scalar& max_value) {
  // Below the autocast key: clamp runs in the input's dtype, as hardtanh would.
  c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::DispatchKey::AutocastCPU);
  return at::clamp(self, min_value, max_value);
}

bool registered = false;

TORCH_LIBRARY_IMPL(aten, AutocastCPU, m) {
  m.impl("hardtanh", TORCH_FN(HardtanhAsClamp));
  registered = true;
}

}  // namespace

bool Bf16ActivationRegistered() { return registered; }

}  // namespace trainer
