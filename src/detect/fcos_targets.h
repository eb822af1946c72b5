#pragma once

#include <array>
#include <vector>

#include <ATen/core/Tensor.h>

#include "detect/detector.h"
#include "expr/formula.h"

namespace autoloss::detect {

// The locations of all FPN levels of one padded input size, concatenated level by level (row
// major within a level). Built once per input size and cached by the model.
struct PointGrid {
    at::Tensor points;   // [P, 2] float32 x, y in input pixels (cell centres)
    at::Tensor strides;  // [P] float32 stride of the location's level
    at::Tensor lower;    // [P] float32: a location regresses boxes whose largest side distance
    at::Tensor upper;    // [P] float32  lies in (lower, upper] (FCOS per-level size ranges)
    std::vector<int64_t> level_sizes;  // locations per level, summing to P
};

// The grid of feature maps of `feature_sizes` (height, width per level) with `strides`; level k
// takes distances in (4·stride, 8·stride], the first level from 0, the last level unbounded.
PointGrid MakePointGrid(const std::vector<std::array<int64_t, 2>>& feature_sizes,
                        const std::vector<int64_t>& strides,
                        const at::Device& device);

// The ground truth each location learns: for every location the smallest-area box whose centre
// region (centre ± radius·stride, clipped to the box) holds it and whose size suits its level.
struct FcosTargets {
    at::Tensor labels;  // [B, P] int64 class of the matched box, -1 for background
    at::Tensor boxes;   // [B, P, 4] float32 matched box (pixels); meaningful where labels >= 0
};

// Assigns targets for all images at once, vectorised over images, locations and boxes.
// `boxes` [B, G, 4] and `labels` [B, G] (-1 marks padding), as in DetectionBatch.
FcosTargets AssignFcosTargets(const PointGrid& grid,
                              const at::Tensor& boxes,
                              const at::Tensor& labels,
                              double center_radius);

// The raw head outputs of a batch, all levels concatenated like PointGrid, float32.
struct FcosOutputs {
    at::Tensor logits;   // [B, P, C] classification logits
    at::Tensor ltrb;     // [B, P, 4] non-negative distances in stride units
    at::Tensor quality;  // [B, P] logit of the predicted IoU
};

// The FCOS losses with pluggable formulas (SPEC.md §2, the authors' binary wrapper):
//  cls: `cls_formula` (binary set) on every (location, class) pair with X = logits, Q = IoU of
//       the decoded prediction with its box at the positive class (0 elsewhere), PY one-hot,
//       NY = 1 - PY; times alpha_t = 0.25·PY + 0.75·NY; summed and divided by the positives;
//  reg: `reg_formula` (regression set) on I, U + 1e-7, E + 1e-7 of the decoded positive boxes
//       (stride units, as the release's normalised boxes), summed and divided by the positives;
//  quality: binary cross-entropy of the quality logit against that IoU (detached), same norm.
LossTerms FcosLoss(const PointGrid& grid,
                   const FcosTargets& targets,
                   const FcosOutputs& outputs,
                   const expr::Formula& cls_formula,
                   const expr::Formula& reg_formula);

}  // namespace autoloss::detect
