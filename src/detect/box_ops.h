#pragma once

#include <ATen/core/Tensor.h>

namespace autoloss::detect {

// Boxes everywhere in detect/ are float32 [..., 4] as x1 y1 x2 y2 in input pixels unless a
// contract says otherwise.

// Pairwise IoU of `a` [N, 4] and `b` [M, 4]; returns [N, M] float32 (0 where the union is 0).
at::Tensor BoxIou(const at::Tensor& a, const at::Tensor& b);

// The areas a regression formula reads for aligned box pairs `pred` and `target` (both [N, 4]):
// intersection I, union U and smallest enclosing box area E, each [N], without any epsilon.
struct IouParts {
    at::Tensor intersection;
    at::Tensor union_area;
    at::Tensor enclosing;
};
IouParts AlignedIouParts(const at::Tensor& pred, const at::Tensor& target);

// Encodes `boxes` [N, 4] as distances left, top, right, bottom from `points` [N, 2] (x, y),
// divided by `strides` [N]: the FCOS regression target, [N, 4].
at::Tensor EncodeLtrb(const at::Tensor& points, const at::Tensor& boxes, const at::Tensor& strides);

// Inverse of EncodeLtrb: `ltrb` [..., 4] distances in stride units from `points` [..., 2] with
// `strides` [...] gives boxes [..., 4] in pixels.
at::Tensor DecodeLtrb(const at::Tensor& points, const at::Tensor& ltrb, const at::Tensor& strides);

// Greedy non-maximum suppression within each class: keeps a box unless a higher-scoring box of
// the same class overlaps it with IoU > `iou_threshold`. `boxes` [N, 4], `scores` [N],
// `classes` [N] int64. Returns kept indices, int64 [K], by descending score.
at::Tensor BatchedNms(const at::Tensor& boxes,
                      const at::Tensor& scores,
                      const at::Tensor& classes,
                      double iou_threshold);

}  // namespace autoloss::detect
