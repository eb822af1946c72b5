#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace autoloss::detect {

// Geometry of RoIAlign (He et al. 2017, Mask R-CNN §3): every output bin averages bilinear
// samples of the feature map on a regular grid inside the bin, without quantising the box.
struct RoiAlignOptions {
    int64_t output_height = 7;
    int64_t output_width = 7;
    double spatial_scale = 1.0;  // feature cells per input pixel, 1 / stride
    // Samples per bin along each axis; 0 or less takes ceil(bin size in cells), as Detectron.
    int64_t sampling_ratio = 2;
    // Shift boxes by half a cell so pixel centres line up (Detectron2's aligned=True); false
    // is the original Mask R-CNN convention, which also floors box sizes at one cell.
    bool aligned = true;
};

// Pooled features of `rois` from `features`, differentiable with respect to `features` (the
// boxes get no gradient). `features` [B, C, H, W] float32 or float64 on the CPU, any memory
// format (channels-last avoids a copy); `rois` [R, 5] floating: batch index, x1 y1 x2 y2 in
// input pixels. Returns [R, C, output_height, output_width] of the features' dtype, stored
// channels-last. Sample points follow torchvision's roi_align edge rules: points more than a
// cell outside the map contribute 0, others are clamped into it.
// Features on an accelerator are pooled by RoiAlignByGather.
at::Tensor RoiAlign(const at::Tensor& features,
                    const at::Tensor& rois,
                    const RoiAlignOptions& options);

// RoiAlign built from tensor operations (index_select gathers and weighted sums), so it runs on
// any device libtorch supports and libtorch derives its backward; the same inputs, outputs and
// edge rules as RoiAlign, with `rois` on the features' device. It holds every bilinear sample
// at once ([R, H_out·g, W_out·g, C] four times, g the largest per-bin grid), which the CPU
// kernel never does, so the CPU keeps the kernel.
at::Tensor RoiAlignByGather(const at::Tensor& features,
                            const at::Tensor& rois,
                            const RoiAlignOptions& options);

}  // namespace autoloss::detect
