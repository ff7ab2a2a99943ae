// Stand-in for LibTorch's distributed-autograd context header, which c10d's reducer.hpp includes but Debian's
// libtorch-dev (1.13.1) does not ship. It declares only the two names reducer.hpp uses, pinned to LibTorch 1.13.1:
//   - DistAutogradContext::GradCallback, checked by a static_assert to be std::function<bool(at::Tensor&)>;
//   - ContextPtr, a std::shared_ptr<DistAutogradContext> held by the Reducer (with a raw pointer beside it).
// Both members are pointer-sized whatever the class holds, so the Reducer's layout, compiled into libtorch_cpu,
// is unchanged. Re-check against the real header on any LibTorch upgrade. A LibTorch that ships the real header
// (an upstream distribution) gets it instead, through #include_next.
#pragma once

#if __has_include_next(<torch/csrc/distributed/autograd/context/context.h>)
#include_next <torch/csrc/distributed/autograd/context/context.h>
#else

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>

namespace torch {
namespace distributed {
namespace autograd {

// Only the type alias: this build never creates a distributed-autograd context (no RPC).
class DistAutogradContext {
 public:
  using GradCallback = std::function<bool(at::Tensor&)>;
};

using ContextPtr = std::shared_ptr<DistAutogradContext>;

}  // namespace autograd
}  // namespace distributed
}  // namespace torch

#endif
