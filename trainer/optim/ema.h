// An exponential moving average of a model's weights (Polyak averaging), kept in a second model of the same shape
// so that it can be evaluated alongside the raw weights.
#ifndef TRAINER_OPTIM_EMA_H_
#define TRAINER_OPTIM_EMA_H_

#include <torch/nn/module.h>

namespace trainer {

class WeightEma {
 public:
  // `shadow` must have the same parameter and buffer names and shapes as the trained model; it is overwritten by
  // the first Update (or by Reset).
  WeightEma(std::shared_ptr<torch::nn::Module> shadow, double decay) : shadow_(std::move(shadow)), decay_(decay) {}

  // Copies every parameter and buffer of `model` into the shadow.
  void Reset(const torch::nn::Module& model);
  // shadow = decay * shadow + (1 - decay) * model for floating parameters and buffers (BatchNorm running statistics
  // included); integer buffers (num_batches_tracked) are copied.
  void Update(const torch::nn::Module& model);

  torch::nn::Module& shadow() { return *shadow_; }
  const torch::nn::Module& shadow() const { return *shadow_; }
  double decay() const { return decay_; }

 private:
  std::shared_ptr<torch::nn::Module> shadow_;
  double decay_;
};

}  // namespace trainer

#endif  // TRAINER_OPTIM_EMA_H_
