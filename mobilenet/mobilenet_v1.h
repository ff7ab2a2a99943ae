// MobileNetV1's feature extractor (Howard et al. 2017): a 3x3 stride-2 stem and 13 depthwise-separable blocks.
#ifndef MOBILENET_MOBILENET_V1_H_
#define MOBILENET_MOBILENET_V1_H_

#include "mobilenet/layers.h"
#include "mobilenet/mobilenet_options.h"

namespace mobilenet {

// features.0 is Conv-BN-ReLU6 (32, stride 2); features.1-13 are blocks named `depthwise` (3x3, groups = channels)
// and `pointwise` (1x1), each Conv-BN-ReLU6, with output channels 64, 128 s2, 128, 256 s2, 256, 512 s2, 5x 512,
// 1024 s2, 1024. With output_stride 16 block 12 (1024, nominally stride 2) keeps stride 1 and dilation 1, block 13
// dilates by 2; with 8 block 6 (512) keeps stride 1, blocks 7-12 dilate by 2 and block 13 by 4.
Features BuildMobileNetV1Features(const MobileNetOptions& options);

}  // namespace mobilenet

#endif  // MOBILENET_MOBILENET_V1_H_
