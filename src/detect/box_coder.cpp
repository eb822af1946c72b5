#include "detect/box_coder.h"

#include <torch/torch.h>

namespace autoloss::detect {

at::Tensor BoxCoder::Encode(const at::Tensor& reference, const at::Tensor& boxes) const {
    const at::Tensor rw = reference.select(-1, 2) - reference.select(-1, 0);
    const at::Tensor rh = reference.select(-1, 3) - reference.select(-1, 1);
    const at::Tensor rx = reference.select(-1, 0) + 0.5 * rw;
    const at::Tensor ry = reference.select(-1, 1) + 0.5 * rh;
    const at::Tensor w = boxes.select(-1, 2) - boxes.select(-1, 0);
    const at::Tensor h = boxes.select(-1, 3) - boxes.select(-1, 1);
    const at::Tensor x = boxes.select(-1, 0) + 0.5 * w;
    const at::Tensor y = boxes.select(-1, 1) + 0.5 * h;
    return torch::stack({weights[0] * (x - rx) / rw,
                         weights[1] * (y - ry) / rh,
                         weights[2] * (w / rw).log(),
                         weights[3] * (h / rh).log()},
                        -1);
}

at::Tensor BoxCoder::Decode(const at::Tensor& reference, const at::Tensor& deltas) const {
    const at::Tensor rw = reference.select(-1, 2) - reference.select(-1, 0);
    const at::Tensor rh = reference.select(-1, 3) - reference.select(-1, 1);
    const at::Tensor rx = reference.select(-1, 0) + 0.5 * rw;
    const at::Tensor ry = reference.select(-1, 1) + 0.5 * rh;
    const at::Tensor x = deltas.select(-1, 0) / weights[0] * rw + rx;
    const at::Tensor y = deltas.select(-1, 1) / weights[1] * rh + ry;
    const at::Tensor w = (deltas.select(-1, 2) / weights[2]).clamp_max(clamp).exp() * rw;
    const at::Tensor h = (deltas.select(-1, 3) / weights[3]).clamp_max(clamp).exp() * rh;
    return torch::stack({x - 0.5 * w, y - 0.5 * h, x + 0.5 * w, y + 0.5 * h}, -1);
}

at::Tensor ClipBoxes(const at::Tensor& boxes, double height, double width) {
    return torch::stack({boxes.select(-1, 0).clamp(0, width),
                         boxes.select(-1, 1).clamp(0, height),
                         boxes.select(-1, 2).clamp(0, width),
                         boxes.select(-1, 3).clamp(0, height)},
                        -1);
}

}  // namespace autoloss::detect
