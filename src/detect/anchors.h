#pragma once

#include <array>
#include <vector>

#include <ATen/core/Tensor.h>

namespace autoloss::detect {

// The anchors of one padded input size over several feature levels, concatenated level by
// level, row-major over cells within a level and anchor shape fastest: the order in which the
// RPN head's outputs are flattened.
struct AnchorGrid {
    at::Tensor boxes;                  // [A, 4] float32 x1 y1 x2 y2 in input pixels
    std::vector<int64_t> level_sizes;  // anchors per level, summing to A
};

// Anchors centred on every cell centre ((x + 0.5)·stride, (y + 0.5)·stride) of feature maps of
// `feature_sizes` (height, width per level) with `strides`; level k has one anchor per ratio
// in `ratios` (height / width), each of area sizes[k]², in that order.
AnchorGrid MakeAnchors(const std::vector<std::array<int64_t, 2>>& feature_sizes,
                       const std::vector<int64_t>& strides,
                       const std::vector<double>& sizes,
                       const std::vector<double>& ratios,
                       const at::Device& device);

}  // namespace autoloss::detect
