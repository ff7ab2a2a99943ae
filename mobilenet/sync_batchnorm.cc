#include "mobilenet/sync_batchnorm.h"

#include <ATen/core/ivalue.h>
#include <torch/autograd.h>
#include <torch/custom_class.h>

#include <utility>

namespace mobilenet {
namespace {

// Carries the sum over processes from forward to backward inside the autograd context.
struct AllReduceSumHolder : torch::CustomClassHolder {
  explicit AllReduceSumHolder(AllReduceSum function) : sum(std::move(function)) {}
  AllReduceSum sum;
};

torch::Tensor PerChannel(const torch::Tensor& values) { return values.reshape({1, -1, 1, 1}); }

// y = (x - mean) * invstd * weight + bias with the global statistics given. Backward is BatchNorm's training-mode
// gradient, which accounts for the statistics depending on every process's input: the two per-channel gradient
// sums it needs are summed over processes.
class SyncBatchNormFunction : public torch::autograd::Function<SyncBatchNormFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input,
                               const torch::Tensor& weight, const torch::Tensor& bias, const torch::Tensor& mean,
                               const torch::Tensor& invstd, double global_count,
                               c10::intrusive_ptr<AllReduceSumHolder> all_reduce) {
    const torch::Tensor scale = weight * invstd;
    const torch::Tensor shift = bias - mean * scale;
    torch::Tensor output = input * PerChannel(scale);
    output.add_(PerChannel(shift));
    ctx->save_for_backward({input, weight, mean, invstd});
    ctx->saved_data["global_count"] = global_count;
    ctx->saved_data["all_reduce"] = c10::IValue::make_capsule(std::move(all_reduce));
    return output;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& input = saved[0];
    const torch::Tensor& weight = saved[1];
    const torch::Tensor& mean = saved[2];
    const torch::Tensor& invstd = saved[3];
    const torch::Tensor grad = grad_outputs[0];
    const int64_t channels = input.size(1);

    const torch::Tensor centred = input - PerChannel(mean);
    const torch::Tensor sum_grad = grad.sum({0, 2, 3});
    const torch::Tensor sum_grad_centred = (grad * centred).sum({0, 2, 3});
    torch::Tensor grad_input, grad_weight, grad_bias;
    if (ctx->needs_input_grad(1)) grad_weight = sum_grad_centred * invstd;
    if (ctx->needs_input_grad(2)) grad_bias = sum_grad;
    if (ctx->needs_input_grad(0)) {
      // Every process of the group reaches this point for the same layers in the same order (the same graph).
      torch::Tensor sums = torch::cat({sum_grad, sum_grad_centred}).to(torch::kDouble);
      const auto holder =
          c10::static_intrusive_pointer_cast<AllReduceSumHolder>(ctx->saved_data["all_reduce"].toCapsule());
      holder->sum(sums);
      sums = (sums / ctx->saved_data["global_count"].toDouble()).to(grad.scalar_type());
      const torch::Tensor mean_grad = sums.slice(0, 0, channels);
      const torch::Tensor mean_grad_centred = sums.slice(0, channels, 2 * channels);
      grad_input = (grad - PerChannel(mean_grad) - centred * PerChannel(invstd * invstd * mean_grad_centred)) *
                   PerChannel(invstd * weight);
    }
    return {grad_input, grad_weight, grad_bias, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor SyncBatchNormTraining(torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& input,
                                    const AllReduceSum& all_reduce_sum) {
  TORCH_CHECK(all_reduce_sum, "SyncBatchNormTraining: no sum over processes given");
  TORCH_CHECK(input.dim() == 4, "SyncBatchNorm: expected a 4-d input [N, C, H, W], got ", input.sizes());
  TORCH_CHECK(bn.options.affine(), "SyncBatchNorm: needs a BatchNorm with affine parameters");
  // float64 stays float64 (the tests compare whole models in it); everything else computes in float32.
  const torch::ScalarType compute = input.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
  const torch::Tensor x = input.to(compute);
  const int64_t channels = x.size(1);
  const int64_t local_count = channels == 0 ? 0 : x.numel() / channels;

  // [count * mean, count * E[x^2], count] per process, in float64, summed over processes. Each process's mean and
  // variance come from var_mean (numerically stable); float64 keeps E[x^2] - mean^2 from cancelling.
  torch::Tensor mean, variance;
  double global_count = 0;
  {
    torch::NoGradGuard no_grad;
    torch::Tensor packed = torch::zeros({2 * channels + 1}, x.options().dtype(torch::kDouble));
    if (local_count > 0) {
      const auto [local_variance, local_mean] = torch::var_mean(x, {0, 2, 3}, /*unbiased=*/false);
      const torch::Tensor m = local_mean.to(torch::kDouble);
      packed.slice(0, 0, channels).copy_(m * local_count);
      packed.slice(0, channels, 2 * channels).copy_((local_variance.to(torch::kDouble) + m * m) * local_count);
    }
    packed[2 * channels] = static_cast<double>(local_count);
    all_reduce_sum(packed);
    global_count = packed[2 * channels].item<double>();
    TORCH_CHECK(global_count > 1,
                "SyncBatchNorm: expected more than 1 value per channel over all processes when "
                "training, got ",
                global_count, " (input ", input.sizes(), " on this process)");
    const torch::Tensor global_mean = packed.slice(0, 0, channels) / global_count;
    const torch::Tensor global_variance =
        (packed.slice(0, channels, 2 * channels) / global_count - global_mean * global_mean).clamp_min(0);
    mean = global_mean.to(compute);
    variance = global_variance;

    if (bn.options.track_running_stats() && bn.running_mean.defined()) {
      double momentum = 0;
      if (bn.num_batches_tracked.defined()) bn.num_batches_tracked += 1;
      if (bn.options.momentum().has_value()) {
        momentum = *bn.options.momentum();
      } else {  // a cumulative average, as BatchNorm2d with momentum None
        momentum = 1.0 / bn.num_batches_tracked.item<double>();
      }
      const torch::Tensor unbiased = global_variance * (global_count / (global_count - 1));
      bn.running_mean.mul_(1 - momentum).add_(mean.to(bn.running_mean.scalar_type()), momentum);
      bn.running_var.mul_(1 - momentum).add_(unbiased.to(bn.running_var.scalar_type()), momentum);
    }
  }
  const torch::Tensor invstd = (variance + bn.options.eps()).rsqrt().to(compute);
  torch::Tensor output =
      SyncBatchNormFunction::apply(x, bn.weight.to(compute), bn.bias.to(compute), mean, invstd, global_count,
                                   c10::make_intrusive<AllReduceSumHolder>(all_reduce_sum));
  return output.scalar_type() == input.scalar_type() ? output : output.to(input.scalar_type());
}

int SetBatchNormSync(torch::nn::Module& model, const AllReduceSum& all_reduce_sum) {
  int count = 0;
  for (const std::shared_ptr<torch::nn::Module>& module : model.modules(/*include_self=*/true)) {
    if (auto* syncs = dynamic_cast<SyncsBatchNorm*>(module.get())) count += syncs->SetBatchNormSync(all_reduce_sum);
  }
  return count;
}

}  // namespace mobilenet
