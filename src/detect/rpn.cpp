#include "detect/rpn.h"

#include <algorithm>

#include <torch/torch.h>

#include "detect/box_ops.h"

namespace autoloss::detect {

namespace {

torch::nn::Conv2d RpnConv(int64_t in, int64_t out, int64_t kernel) {
    torch::nn::Conv2d conv(torch::nn::Conv2dOptions(in, out, kernel).padding(kernel / 2));
    torch::nn::init::normal_(conv->weight, 0.0, 0.01);
    torch::nn::init::zeros_(conv->bias);
    return conv;
}

// Smooth L1 with transition `beta`, element-wise.
at::Tensor SmoothL1(const at::Tensor& diff, double beta) {
    const at::Tensor a = diff.abs();
    return torch::where(a < beta, 0.5 * a * a / beta, a - 0.5 * beta);
}

}  // namespace

RpnHeadImpl::RpnHeadImpl(int64_t channels, int64_t anchors_per_cell) {
    conv_ = register_module("conv", RpnConv(channels, channels, 3));
    objectness_ = register_module("objectness", RpnConv(channels, anchors_per_cell, 1));
    deltas_ = register_module("deltas", RpnConv(channels, 4 * anchors_per_cell, 1));
}

std::pair<at::Tensor, at::Tensor> RpnHeadImpl::forward(const std::vector<at::Tensor>& levels) {
    std::vector<at::Tensor> objectness, deltas;
    for (const auto& level : levels) {
        const at::Tensor t = conv_->forward(level).relu();
        const at::Tensor o = objectness_->forward(t);
        const at::Tensor d = deltas_->forward(t);
        const int64_t b = o.size(0), a = o.size(1), h = o.size(2), w = o.size(3);
        objectness.push_back(o.permute({0, 2, 3, 1}).reshape({b, -1}));
        deltas.push_back(d.view({b, a, 4, h, w}).permute({0, 3, 4, 1, 2}).reshape({b, -1, 4}));
    }
    return {torch::cat(objectness, 1).to(torch::kFloat), torch::cat(deltas, 1).to(torch::kFloat)};
}

MatchResult MatchAnchors(const at::Tensor& anchors,
                         const at::Tensor& gt_boxes,
                         const at::Tensor& gt_labels,
                         double fg_iou,
                         double bg_iou) {
    const int64_t b = gt_boxes.size(0), g = gt_boxes.size(1), n = anchors.size(0);
    MatchResult result;
    if (g == 0) {
        result.labels = torch::zeros({b, n}, anchors.options().dtype(torch::kLong));
        result.boxes = torch::zeros({b, n, 4}, anchors.options());
        result.classes = torch::full({b, n}, -1, anchors.options().dtype(torch::kLong));
        return result;
    }
    // IoU [B, G, N]; padded boxes get -1 so they never win a match.
    const at::Tensor valid = (gt_labels >= 0).unsqueeze(2);
    const at::Tensor iou = torch::where(valid,
                                        BoxIou(gt_boxes.reshape({-1, 4}), anchors).view({b, g, n}),
                                        torch::full({}, -1.0f, anchors.options()));
    const auto [best, index] = iou.max(1);  // [B, N]
    at::Tensor labels = torch::full({b, n}, -1, index.options());
    labels.masked_fill_(best < bg_iou, 0);
    labels.masked_fill_(best >= fg_iou, 1);
    // Low-quality matches: for every box, the anchors attaining its best IoU (if positive).
    const at::Tensor best_per_box = std::get<0>(iou.max(2, /*keepdim=*/true));  // [B, G, 1]
    const at::Tensor claimed =
        ((iou == best_per_box) & (best_per_box > 0) & valid).any(1);  // [B, N]
    labels.masked_fill_(claimed, 1);
    result.labels = labels;
    result.boxes = gt_boxes.gather(1, index.unsqueeze(2).expand({b, n, 4}));
    result.classes = gt_labels.gather(1, index);
    return result;
}

at::Tensor SampleBalanced(const at::Tensor& labels, int64_t per_image, double fraction) {
    const auto max_positive = static_cast<int64_t>(per_image * fraction);
    // Each candidate's rank in a random order; a candidate is kept when its rank is below its
    // image's quota, which picks a uniform random subset per image without a loop.
    const auto ranks = [&](const at::Tensor& candidate) {
        const at::Tensor keys =
            torch::where(candidate,
                         torch::rand(labels.sizes(), labels.options().dtype(torch::kFloat)),
                         torch::full({}, 2.0f, labels.options().dtype(torch::kFloat)));
        const at::Tensor order = std::get<1>(keys.sort(1));
        return torch::empty_like(order).scatter_(
            1, order, torch::arange(labels.size(1), order.options()).expand_as(order));
    };
    const at::Tensor positive = labels == 1;
    const at::Tensor negative = labels == 0;
    const at::Tensor positive_quota = positive.sum(1, /*keepdim=*/true).clamp_max(max_positive);
    const at::Tensor negative_quota = per_image - positive_quota;
    const at::Tensor keep_positive = positive & (ranks(positive) < positive_quota);
    const at::Tensor keep_negative = negative & (ranks(negative) < negative_quota);
    at::Tensor sampled = torch::full_like(labels, -1);
    sampled.masked_fill_(keep_positive, 1);
    sampled.masked_fill_(keep_negative, 0);
    return sampled;
}

std::pair<at::Tensor, at::Tensor> RpnLoss(const at::Tensor& objectness,
                                          const at::Tensor& deltas,
                                          const at::Tensor& anchors,
                                          const at::Tensor& labels,
                                          const at::Tensor& boxes,
                                          const BoxCoder& coder) {
    const at::Tensor sampled = labels >= 0;
    const at::Tensor count = sampled.sum().clamp_min(1).to(torch::kFloat);
    const at::Tensor cls =
        torch::binary_cross_entropy_with_logits(objectness.masked_select(sampled),
                                                labels.masked_select(sampled).to(torch::kFloat),
                                                {},
                                                {},
                                                at::Reduction::Sum) /
        count;
    const at::Tensor positive = (labels == 1).nonzero();  // [P, 2] image, anchor
    const at::Tensor image = positive.select(1, 0);
    const at::Tensor anchor = positive.select(1, 1);
    const at::Tensor target =
        coder.Encode(anchors.index_select(0, anchor), boxes.index({image, anchor}));
    const at::Tensor reg =
        SmoothL1(deltas.index({image, anchor}) - target, 1.0 / 9.0).sum() / count;
    return {cls, reg};
}

std::vector<at::Tensor> SelectProposals(const at::Tensor& objectness,
                                        const at::Tensor& deltas,
                                        const AnchorGrid& anchors,
                                        const std::vector<std::array<int64_t, 2>>& sizes,
                                        int64_t pre_nms_top_n,
                                        int64_t post_nms_top_n,
                                        double nms_iou,
                                        double min_size,
                                        const BoxCoder& coder) {
    torch::NoGradGuard no_grad;
    const int64_t b = objectness.size(0);
    std::vector<at::Tensor> level_boxes, level_scores;  // [B, k_l, 4], [B, k_l]
    int64_t offset = 0;
    for (const int64_t n : anchors.level_sizes) {
        const int64_t k = std::min(pre_nms_top_n, n);
        const auto [scores, index] = objectness.narrow(1, offset, n).topk(k, 1);
        const at::Tensor level_anchors =
            anchors.boxes.narrow(0, offset, n).index_select(0, index.reshape(-1)).view({b, k, 4});
        const at::Tensor level_deltas =
            deltas.narrow(1, offset, n).gather(1, index.unsqueeze(2).expand({b, k, 4}));
        level_boxes.push_back(coder.Decode(level_anchors, level_deltas));
        level_scores.push_back(scores);
        offset += n;
    }
    std::vector<at::Tensor> proposals;
    for (int64_t i = 0; i < b; ++i) {
        std::vector<at::Tensor> kept_boxes, kept_scores;
        for (std::size_t l = 0; l < level_boxes.size(); ++l) {
            const at::Tensor boxes = ClipBoxes(level_boxes[l][i],
                                               static_cast<double>(sizes[i][0]),
                                               static_cast<double>(sizes[i][1]));
            const at::Tensor scores = level_scores[l][i];
            const at::Tensor big = ((boxes.select(1, 2) - boxes.select(1, 0) >= min_size) &
                                    (boxes.select(1, 3) - boxes.select(1, 1) >= min_size))
                                       .nonzero()
                                       .squeeze(1);
            const at::Tensor candidates = boxes.index_select(0, big);
            const at::Tensor candidate_scores = scores.index_select(0, big);
            const at::Tensor keep = BatchedNms(candidates,
                                               candidate_scores,
                                               torch::zeros({candidates.size(0)}, big.options()),
                                               nms_iou);
            kept_boxes.push_back(candidates.index_select(0, keep));
            kept_scores.push_back(candidate_scores.index_select(0, keep));
        }
        const at::Tensor boxes = torch::cat(kept_boxes);
        const at::Tensor scores = torch::cat(kept_scores);
        const int64_t k = std::min(post_nms_top_n, scores.size(0));
        const at::Tensor top = std::get<1>(scores.topk(k));
        proposals.push_back(boxes.index_select(0, top));
    }
    return proposals;
}

}  // namespace autoloss::detect
