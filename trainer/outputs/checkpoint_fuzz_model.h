// The modules make_checkpoint_seed saves (checkpoint_fuzzer's seed) and checkpoint_test restores the fuzzer's finding
// into: small enough that a checkpoint is a few kilobytes (a fuzzer mutates every byte of its input), with the pieces
// a real one has - model parameters and a buffer, an EMA copy and SGD momentum state.
#ifndef TRAINER_OUTPUTS_CHECKPOINT_FUZZ_MODEL_H_
#define TRAINER_OUTPUTS_CHECKPOINT_FUZZ_MODEL_H_

#include <torch/torch.h>

#include <memory>

namespace trainer {

struct CheckpointFuzzModel {
  torch::nn::Sequential model{torch::nn::Linear(4, 3), torch::nn::BatchNorm1d(3)};
  torch::nn::Sequential ema{torch::nn::Linear(4, 3), torch::nn::BatchNorm1d(3)};
  std::unique_ptr<torch::optim::SGD> optimizer =
      std::make_unique<torch::optim::SGD>(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));

  // One step, so the optimizer has momentum buffers to save and restore.
  void TrainOneStep() {
    model->train();
    const torch::Tensor loss = model->forward(torch::ones({2, 4})).square().mean();
    optimizer->zero_grad();
    loss.backward();
    optimizer->step();
  }
};

}  // namespace trainer

#endif  // TRAINER_OUTPUTS_CHECKPOINT_FUZZ_MODEL_H_
