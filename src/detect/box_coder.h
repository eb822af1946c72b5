#pragma once

#include <array>

#include <ATen/core/Tensor.h>

namespace autoloss::detect {

// The R-CNN box parameterisation (Girshick et al. 2014): a box relative to a reference box as
// centre offsets in reference widths/heights and log size ratios, each scaled by a weight.
struct BoxCoder {
    // Multipliers of dx, dy, dw, dh: (1, 1, 1, 1) for the RPN, (10, 10, 5, 5) for the box head
    // (Faster R-CNN's conventions, also torchvision's and mmdetection's).
    std::array<double, 4> weights = {1.0, 1.0, 1.0, 1.0};
    // Upper bound of decoded dw, dh before exp, so a wild prediction cannot overflow: ln(1000/16).
    double clamp = 4.135166556742356;

    // Deltas [..., 4] that turn `reference` [..., 4] into `boxes` [..., 4] (broadcasting,
    // float32 or float64 x1 y1 x2 y2, references of positive size).
    at::Tensor Encode(const at::Tensor& reference, const at::Tensor& boxes) const;

    // Boxes [..., 4] from `deltas` [..., 4] applied to `reference` [..., 4] (broadcasting); the
    // exact inverse of Encode while dw, dh stay below the clamp.
    at::Tensor Decode(const at::Tensor& reference, const at::Tensor& deltas) const;
};

// Clips `boxes` [..., 4] to the image of `height` x `width` pixels.
at::Tensor ClipBoxes(const at::Tensor& boxes, double height, double width);

}  // namespace autoloss::detect
