// BF16 autocast support on CPU for LibTorch 1.13, whose hardtanh (ReLU6) has no bfloat16 backward kernel
// ("hardshrink_backward_cpu" not implemented for 'BFloat16').
//
// Linking this library registers, for the AutocastCPU dispatch key only, a hardtanh kernel that computes
// clamp(x, min, max) instead: the same values, and clamp's backward (a mask) exists for bfloat16. Outside autocast
// nothing changes. In-place ReLU6 (hardtanh_) cannot be redirected that way, so models trained under BF16 autocast
// are built with MobileNetOptions::inplace_activation(false).
#ifndef TRAINER_BF16_ACTIVATION_H_
#define TRAINER_BF16_ACTIVATION_H_

namespace trainer {

// True once the registration above has run (referencing it also keeps the linker from dropping the library).
bool Bf16ActivationRegistered();

}  // namespace trainer

#endif  // TRAINER_BF16_ACTIVATION_H_
