#pragma once

#include <array>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>

#include "detect/anchors.h"
#include "detect/box_coder.h"

namespace autoloss::detect {

// Region proposal network settings (Ren et al. 2015, on FPN levels as Lin et al. 2017).
// Defaults follow torchvision's Faster R-CNN except the proposal counts, which are smaller
// for CPU training and stated in the preset.
struct RpnOptions {
    std::vector<double> anchor_sizes = {32, 64, 128, 256};  // one per RPN level (P3-P6)
    std::vector<double> aspect_ratios = {0.5, 1.0, 2.0};    // height / width
    double fg_iou = 0.7;                                    // anchors at or above are positive
    double bg_iou = 0.3;                                    // anchors below are negative
    int64_t batch_per_image = 256;  // anchors sampled per image for the loss
    double positive_fraction = 0.5;
    int64_t pre_nms_top_n_train = 1000;   // per level and image
    int64_t post_nms_top_n_train = 1000;  // per image
    int64_t pre_nms_top_n_test = 500;
    int64_t post_nms_top_n_test = 300;
    double nms_iou = 0.7;
    double min_size = 1e-3;  // proposals narrower or lower than this (pixels) are dropped
};

// The shared RPN head: a 3x3 convolution with ReLU, then per anchor an objectness logit and
// four box deltas.
class RpnHeadImpl : public torch::nn::Module {
  public:
    RpnHeadImpl(int64_t channels, int64_t anchors_per_cell);

    // `levels` [B, channels, H_k, W_k] -> objectness [B, A] and deltas [B, A, 4], float32, in
    // AnchorGrid order (levels concatenated, cells row-major, anchor shape fastest).
    std::pair<at::Tensor, at::Tensor> forward(const std::vector<at::Tensor>& levels);

  private:
    torch::nn::Conv2d conv_{nullptr};
    torch::nn::Conv2d objectness_{nullptr};
    torch::nn::Conv2d deltas_{nullptr};
};
TORCH_MODULE(RpnHead);

// What each anchor (or proposal) learns, for a batch of images.
struct MatchResult {
    at::Tensor labels;   // [B, N] int64: 1 positive, 0 negative, -1 ignored
    at::Tensor boxes;    // [B, N, 4] float32 ground-truth box of the best match (any label)
    at::Tensor classes;  // [B, N] int64 class of that box (-1 when the image has none)
};

// Matches `anchors` [N, 4] against `gt_boxes` [B, G, 4] (rows with `gt_labels` [B, G] < 0 are
// padding): best IoU >= fg_iou is positive, < bg_iou negative, in between ignored; each real
// box of positive area also claims the anchors that overlap it best (ties included), so every
// object has a positive (Faster R-CNN's low-quality matches). Vectorised over images.
MatchResult MatchAnchors(const at::Tensor& anchors,
                         const at::Tensor& gt_boxes,
                         const at::Tensor& gt_labels,
                         double fg_iou,
                         double bg_iou);

// Random balanced subsampling of `labels` [B, N] (1 positive, 0 negative, -1 ignored): per
// image at most per_image·fraction positives, negatives filling up to per_image; the others
// become -1. Draws from libtorch's global generator. Vectorised over images.
at::Tensor SampleBalanced(const at::Tensor& labels, int64_t per_image, double fraction);

// The RPN losses of sampled `labels` [B, A]: objectness binary cross-entropy averaged over the
// sampled anchors, and smooth L1 (beta 1/9) of `deltas` [B, A, 4] against the encoded matched
// `boxes` [B, A, 4] on the positives, summed and divided by the sampled count (torchvision).
std::pair<at::Tensor, at::Tensor> RpnLoss(const at::Tensor& objectness,
                                          const at::Tensor& deltas,
                                          const at::Tensor& anchors,
                                          const at::Tensor& labels,
                                          const at::Tensor& boxes,
                                          const BoxCoder& coder);

// Proposals per image, without gradient: per level the pre_nms_top_n best-scoring anchors,
// decoded from `deltas` [B, A, 4], clipped to the image's valid `sizes`, tiny ones dropped,
// NMS within the level; then the post_nms_top_n best over all levels. `objectness` [B, A].
// Returns per image [P_b, 4] float32 boxes sorted by descending objectness.
std::vector<at::Tensor> SelectProposals(const at::Tensor& objectness,
                                        const at::Tensor& deltas,
                                        const AnchorGrid& anchors,
                                        const std::vector<std::array<int64_t, 2>>& sizes,
                                        int64_t pre_nms_top_n,
                                        int64_t post_nms_top_n,
                                        double nms_iou,
                                        double min_size,
                                        const BoxCoder& coder);

}  // namespace autoloss::detect
