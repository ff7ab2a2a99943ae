// MobileNetV2's feature extractor (Sandler et al. 2018), module for module torchvision's mobilenet_v2.features.
#ifndef MOBILENET_MOBILENET_V2_H_
#define MOBILENET_MOBILENET_V2_H_

#include "mobilenet/layers.h"
#include "mobilenet/mobilenet_options.h"

namespace mobilenet {

// features.0 is the 3x3 stride-2 stem, features.1-17 the inverted residual blocks of the (t, c, n, s) table
// (1,16,1,1 / 6,24,2,2 / 6,32,3,2 / 6,64,4,2 / 6,96,3,1 / 6,160,3,2 / 6,320,1,1), features.18 the 1x1 conv to 1280.
// With output_stride 16 the first 160-channel block keeps stride 1 (dilation 1) and the later 160 and 320 blocks
// use dilation 2; with 8 the first 64-channel block also keeps stride 1, the later 64 and 96 blocks dilate by 2, the
// first 160 block by 2 and the rest by 4. Only the depthwise 3x3 convolutions dilate.
Features BuildMobileNetV2Features(const MobileNetOptions& options);

}  // namespace mobilenet

#endif  // MOBILENET_MOBILENET_V2_H_
