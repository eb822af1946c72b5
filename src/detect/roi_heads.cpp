#include "detect/roi_heads.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <torch/torch.h>

#include "detect/box_ops.h"
#include "detect/roi_align.h"
#include "detect/rpn.h"
#include "expr_torch/lower.h"

namespace autoloss::detect {

namespace {

torch::nn::Linear Predictor(int64_t in, int64_t out, double std) {
    torch::nn::Linear linear(in, out);
    torch::nn::init::normal_(linear->weight, 0.0, std);
    torch::nn::init::zeros_(linear->bias);
    return linear;
}

at::Tensor SmoothL1(const at::Tensor& diff, double beta) {
    const at::Tensor a = diff.abs();
    return torch::where(a < beta, 0.5 * a * a / beta, a - 0.5 * beta);
}

}  // namespace

BoxHeadImpl::BoxHeadImpl(int64_t channels,
                         int64_t pool_size,
                         int64_t representation,
                         int64_t num_classes)
    : num_classes_(num_classes) {
    fc6_ =
        register_module("fc6", torch::nn::Linear(channels * pool_size * pool_size, representation));
    fc7_ = register_module("fc7", torch::nn::Linear(representation, representation));
    // Detectron's predictor initialisation: small class weights, smaller box weights.
    cls_ = register_module("cls", Predictor(representation, num_classes + 1, 0.01));
    box_ = register_module("box", Predictor(representation, 4 * num_classes, 0.001));
}

std::pair<at::Tensor, at::Tensor> BoxHeadImpl::forward(const at::Tensor& pooled) {
    // Flattened in (y, x, channel) order: RoIAlign stores its output channels-last, so this is
    // a view, and fc6 learns whichever order it is given.
    const at::Tensor x = pooled.permute({0, 2, 3, 1}).reshape({pooled.size(0), -1});
    const at::Tensor h = fc7_->forward(fc6_->forward(x).relu()).relu();
    const at::Tensor logits = cls_->forward(h).to(torch::kFloat);
    const at::Tensor deltas = box_->forward(h).to(torch::kFloat).view({-1, num_classes_, 4});
    return {logits, deltas};
}

at::Tensor MapRoisToLevels(const at::Tensor& boxes, int64_t min_level, int64_t max_level) {
    const at::Tensor scale = ((boxes.select(1, 2) - boxes.select(1, 0)).clamp_min(0) *
                              (boxes.select(1, 3) - boxes.select(1, 1)).clamp_min(0))
                                 .sqrt();
    const at::Tensor level = (4.0 + (scale / 224.0).log2() + 1e-6).floor();
    return level.clamp(static_cast<double>(min_level), static_cast<double>(max_level))
               .to(torch::kLong) -
           min_level;
}

at::Tensor PoolRois(const std::vector<at::Tensor>& levels,
                    const std::vector<int64_t>& strides,
                    const at::Tensor& rois,
                    int64_t pool_size,
                    int64_t sampling_ratio) {
    const auto min_level = static_cast<int64_t>(std::lround(std::log2(strides.front())));
    const at::Tensor level = MapRoisToLevels(
        rois.narrow(1, 1, 4), min_level, min_level + static_cast<int64_t>(levels.size()) - 1);
    std::vector<at::Tensor> pooled, order;
    for (std::size_t k = 0; k < levels.size(); ++k) {
        const at::Tensor index = (level == static_cast<int64_t>(k)).nonzero().squeeze(1);
        if (index.size(0) == 0) {
            continue;
        }
        RoiAlignOptions options;
        options.output_height = options.output_width = pool_size;
        options.spatial_scale = 1.0 / static_cast<double>(strides[k]);
        options.sampling_ratio = sampling_ratio;
        pooled.push_back(RoiAlign(levels[k], rois.index_select(0, index), options));
        order.push_back(index);
    }
    if (pooled.empty()) {
        return torch::zeros({0, levels[0].size(1), pool_size, pool_size}, levels[0].options());
    }
    // Back to the order of `rois`: the inverse of the level-grouped order.
    return torch::cat(pooled).index_select(0, torch::cat(order).argsort());
}

RoiSamples SampleRois(const std::vector<at::Tensor>& proposals,
                      const at::Tensor& gt_boxes,
                      const at::Tensor& gt_labels,
                      int64_t num_classes,
                      const RoiHeadOptions& options) {
    std::vector<at::Tensor> rois, labels, matched;
    for (std::size_t b = 0; b < proposals.size(); ++b) {
        const at::Tensor real = (gt_labels[b] >= 0).nonzero().squeeze(1);
        const at::Tensor boxes = gt_boxes[b].index_select(0, real);
        const at::Tensor classes = gt_labels[b].index_select(0, real);
        const at::Tensor candidates = torch::cat({proposals[b], boxes});
        const int64_t n = candidates.size(0);
        at::Tensor label = torch::full({n}, num_classes, classes.options());
        at::Tensor target = torch::zeros({n, 4}, candidates.options());
        if (boxes.size(0) > 0) {
            const auto [best, index] = BoxIou(candidates, boxes).max(1);
            target = boxes.index_select(0, index);
            label = torch::where(best >= options.fg_iou, classes.index_select(0, index), label);
        }
        const at::Tensor binary = (label < num_classes).to(torch::kLong).unsqueeze(0);
        const at::Tensor keep =
            (SampleBalanced(binary, options.batch_per_image, options.positive_fraction)[0] >= 0)
                .nonzero()
                .squeeze(1);
        const at::Tensor image =
            torch::full({keep.size(0), 1}, static_cast<double>(b), candidates.options());
        rois.push_back(torch::cat({image, candidates.index_select(0, keep)}, 1));
        labels.push_back(label.index_select(0, keep));
        matched.push_back(target.index_select(0, keep));
    }
    return {torch::cat(rois), torch::cat(labels), torch::cat(matched)};
}

std::pair<at::Tensor, at::Tensor> RoiHeadLoss(const at::Tensor& logits,
                                              const at::Tensor& deltas,
                                              const RoiSamples& samples,
                                              const expr::Formula& cls_formula,
                                              const std::optional<expr::Formula>& reg_formula,
                                              const BoxCoder& coder,
                                              double reg_weight) {
    const int64_t r = logits.size(0), c = deltas.size(1);
    const double norm = static_cast<double>(std::max<int64_t>(r, 1));
    const at::Tensor fg = (samples.labels < c).nonzero().squeeze(1);
    const at::Tensor fg_labels = samples.labels.index_select(0, fg);
    const at::Tensor fg_deltas = deltas.index_select(0, fg)
                                     .gather(1, fg_labels.view({-1, 1, 1}).expand({-1, 1, 4}))
                                     .squeeze(1);
    const at::Tensor fg_proposals = samples.rois.index_select(0, fg).narrow(1, 1, 4);
    const at::Tensor fg_targets = samples.gt_boxes.index_select(0, fg);
    const at::Tensor predicted = coder.Decode(fg_proposals, fg_deltas);

    // Z: the release sets 1 on background rows; a foreground row carries the IoU of what the
    // head predicts now, a target and not something to optimise, so it is detached.
    const IouParts detached = AlignedIouParts(predicted.detach(), fg_targets);
    const at::Tensor iou =
        (detached.intersection / detached.union_area.clamp_min(1e-7)).clamp(0, 1);
    const at::Tensor z_rows = torch::ones({r}, logits.options()).index_copy(0, fg, iou);
    const expr::PrimitiveSet& cls_set = cls_formula.primitive_set();
    std::array<at::Tensor, 3> cls_inputs;
    cls_inputs[*cls_set.FindInput("X", false)] = logits;
    cls_inputs[*cls_set.FindInput("Y", false)] =
        torch::one_hot(samples.labels, c + 1).to(logits.scalar_type());
    cls_inputs[*cls_set.FindInput("Z", false)] = z_rows.unsqueeze(1).expand({r, c + 1});
    const at::Tensor cls = expr::EvaluateTorch(cls_formula, cls_inputs).sum() / norm;

    at::Tensor reg;
    if (reg_formula) {
        const IouParts parts = AlignedIouParts(predicted, fg_targets);
        const expr::PrimitiveSet& reg_set = reg_formula->primitive_set();
        std::array<at::Tensor, 3> reg_inputs;
        reg_inputs[*reg_set.FindInput("U", false)] = parts.union_area + 1e-7f;
        reg_inputs[*reg_set.FindInput("I", false)] = parts.intersection;
        reg_inputs[*reg_set.FindInput("E", false)] = parts.enclosing + 1e-7f;
        reg = fg.size(0) > 0
                  ? expr::EvaluateTorch(*reg_formula, reg_inputs).sum() * (reg_weight / norm)
                  : deltas.sum() * 0.0;
    } else {
        reg = SmoothL1(fg_deltas - coder.Encode(fg_proposals, fg_targets), 1.0 / 9.0).sum() / norm;
    }
    return {cls, reg};
}

std::vector<Detections> PostprocessRois(const at::Tensor& logits,
                                        const at::Tensor& deltas,
                                        const std::vector<at::Tensor>& proposals,
                                        const std::vector<std::array<int64_t, 2>>& sizes,
                                        const BoxCoder& coder,
                                        const RoiHeadOptions& options) {
    const int64_t c = deltas.size(1);
    const at::Tensor probabilities = logits.softmax(1).narrow(1, 0, c);
    std::vector<Detections> result;
    int64_t offset = 0;
    for (std::size_t b = 0; b < proposals.size(); ++b) {
        const int64_t p = proposals[b].size(0);
        const at::Tensor boxes =
            ClipBoxes(coder.Decode(proposals[b].unsqueeze(1), deltas.narrow(0, offset, p)),
                      static_cast<double>(sizes[b][0]),
                      static_cast<double>(sizes[b][1]))
                .reshape({-1, 4});
        const at::Tensor scores = probabilities.narrow(0, offset, p).reshape(-1);
        const at::Tensor classes =
            torch::arange(c, deltas.options().dtype(torch::kLong)).repeat({p});
        offset += p;
        const at::Tensor candidate = ((scores > options.score_threshold) &
                                      (boxes.select(1, 2) - boxes.select(1, 0) >= 1e-2) &
                                      (boxes.select(1, 3) - boxes.select(1, 1) >= 1e-2))
                                         .nonzero()
                                         .squeeze(1);
        const at::Tensor kept_boxes = boxes.index_select(0, candidate);
        const at::Tensor kept_scores = scores.index_select(0, candidate);
        const at::Tensor kept_classes = classes.index_select(0, candidate);
        at::Tensor keep = BatchedNms(kept_boxes, kept_scores, kept_classes, options.nms_iou);
        if (keep.size(0) > options.max_detections) {
            keep = keep.narrow(0, 0, options.max_detections);
        }
        Detections detections;
        detections.boxes = kept_boxes.index_select(0, keep);
        detections.scores = kept_scores.index_select(0, keep);
        detections.labels = kept_classes.index_select(0, keep);
        result.push_back(std::move(detections));
    }
    return result;
}

}  // namespace autoloss::detect
