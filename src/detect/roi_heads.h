#pragma once

#include <array>
#include <optional>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

#include "detect/box_coder.h"
#include "detect/detector.h"
#include "expr/formula.h"

namespace autoloss::detect {

// Second-stage settings; defaults are torchvision's Faster R-CNN (and mmdetection's) unless a
// comment says otherwise.
struct RoiHeadOptions {
    int64_t batch_per_image = 512;  // RoIs sampled per image for the loss
    double positive_fraction = 0.25;
    double fg_iou = 0.5;    // proposals at or above are foreground, the rest background
    int64_t pool_size = 7;  // RoIAlign output, pool_size x pool_size
    int64_t sampling_ratio = 2;
    int64_t representation = 1024;  // width of the two fully connected layers
    // Multiplier of the formula regression loss: mmdetection's 10 for IoU-type losses on
    // decoded boxes; the smooth L1 baseline uses weight 1 (torchvision).
    double reg_weight = 10.0;
    double score_threshold = 0.05;
    double nms_iou = 0.5;
    int64_t max_detections = 100;  // per image
};

// The box head: flatten, two fully connected layers with ReLU, then class logits over C
// foreground classes plus background (last) and class-specific box deltas.
class BoxHeadImpl : public torch::nn::Module {
  public:
    BoxHeadImpl(int64_t channels, int64_t pool_size, int64_t representation, int64_t num_classes);

    // `pooled` [R, channels, pool, pool] -> logits [R, C + 1] and deltas [R, C, 4], float32.
    std::pair<at::Tensor, at::Tensor> forward(const at::Tensor& pooled);

  private:
    int64_t num_classes_;
    torch::nn::Linear fc6_{nullptr};
    torch::nn::Linear fc7_{nullptr};
    torch::nn::Linear cls_{nullptr};
    torch::nn::Linear box_{nullptr};
};
TORCH_MODULE(BoxHead);

// The pyramid level index (0 for `min_level`) each box [R, 4] pools from: FPN's
// k = floor(4 + log2(sqrt(area) / 224)) clamped to [min_level, max_level] (Lin et al. 2017
// eq. 1). Returns [R] int64.
at::Tensor MapRoisToLevels(const at::Tensor& boxes, int64_t min_level, int64_t max_level);

// RoIAlign of `rois` [R, 5] (image index, box in input pixels) from the level each box maps
// to; `levels` [B, C, H_k, W_k] float32 with `strides` 2^min_level, 2^(min_level+1), ....
// Returns [R, C, pool, pool] float32, differentiable with respect to the levels.
at::Tensor PoolRois(const std::vector<at::Tensor>& levels,
                    const std::vector<int64_t>& strides,
                    const at::Tensor& rois,
                    int64_t pool_size,
                    int64_t sampling_ratio);

// The sampled RoIs of a batch and what each learns.
struct RoiSamples {
    at::Tensor rois;      // [R, 5] float32 image index, x1 y1 x2 y2
    at::Tensor labels;    // [R] int64 class in [0, C), or C for background
    at::Tensor gt_boxes;  // [R, 4] float32 matched box, meaningful where labels < C
};

// Matches each image's `proposals` [P_b, 4] plus its ground-truth boxes (added as proposals,
// as Faster R-CNN does) against `gt_boxes` [B, G, 4] / `gt_labels` [B, G] (-1 padding): IoU
// >= fg_iou is foreground with the box's class, the rest background; then samples
// batch_per_image with positive_fraction per image.
RoiSamples SampleRois(const std::vector<at::Tensor>& proposals,
                      const at::Tensor& gt_boxes,
                      const at::Tensor& gt_labels,
                      int64_t num_classes,
                      const RoiHeadOptions& options);

// The second-stage losses of sampled RoIs (SPEC.md §1, the authors' two-stage wrapper):
//  cls: `cls_formula` (multi-class set) with X = `logits` [R, C+1], Y = one-hot [R, C+1]
//       (background last), Z = IoU of the decoded predicted box (detached) with its ground
//       truth on foreground rows and 1 on background rows, broadcast over classes; averaged
//       over the R RoIs;
//  reg: `reg_formula` (regression set) on I, U + 1e-7, E + 1e-7 of the foreground RoIs'
//       decoded boxes (input pixels) for their class, summed, divided by R, times reg_weight;
//       without a formula, smooth L1 (beta 1/9) of the class's deltas [R, C, 4] against the
//       encoded target, summed and divided by R (the "CE + Smooth L1" baseline).
std::pair<at::Tensor, at::Tensor> RoiHeadLoss(const at::Tensor& logits,
                                              const at::Tensor& deltas,
                                              const RoiSamples& samples,
                                              const expr::Formula& cls_formula,
                                              const std::optional<expr::Formula>& reg_formula,
                                              const BoxCoder& coder,
                                              double reg_weight);

// Detections from the head outputs of `proposals` (per image, concatenated in `logits`
// [R, C+1] and `deltas` [R, C, 4]): softmax scores, per-class decoding clipped to the valid
// `sizes`, score threshold, per-class NMS, at most max_detections per image.
std::vector<Detections> PostprocessRois(const at::Tensor& logits,
                                        const at::Tensor& deltas,
                                        const std::vector<at::Tensor>& proposals,
                                        const std::vector<std::array<int64_t, 2>>& sizes,
                                        const BoxCoder& coder,
                                        const RoiHeadOptions& options);

}  // namespace autoloss::detect
