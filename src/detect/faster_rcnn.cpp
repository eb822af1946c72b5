#include "detect/faster_rcnn.h"

#include <string>

#include <torch/torch.h>

#include "detect/precision.h"
#include "util/error.h"

namespace autoloss::detect {

namespace {

constexpr int64_t kPooledLevels = 3;  // P3-P5

}  // namespace

FasterRcnnImpl::FasterRcnnImpl(const FasterRcnnOptions& options,
                               expr::Formula cls_formula,
                               std::optional<expr::Formula> reg_formula)
    : options_(options),
      cls_formula_(std::move(cls_formula)),
      reg_formula_(std::move(reg_formula)) {
    if (options.num_classes < 1) {
        throw InputError("faster_rcnn num_classes", std::to_string(options.num_classes) + " < 1");
    }
    if (options.fpn_channels < 8) {
        throw InputError("faster_rcnn fpn_channels", std::to_string(options.fpn_channels) + " < 8");
    }
    if (options.rpn.anchor_sizes.size() != FasterRcnnStrides().size()) {
        throw InputError("faster_rcnn anchor_sizes",
                         "needs one size per RPN level (" +
                             std::to_string(FasterRcnnStrides().size()) + "), got " +
                             std::to_string(options.rpn.anchor_sizes.size()));
    }
    if (options.rpn.aspect_ratios.empty()) {
        throw InputError("faster_rcnn aspect_ratios", "needs at least one ratio");
    }
    if (cls_formula_.set() != expr::SetKind::kClsMulti) {
        throw InputError("faster_rcnn cls loss", "needs a formula of the cls-multi set");
    }
    if (reg_formula_ && reg_formula_->set() != expr::SetKind::kReg) {
        throw InputError("faster_rcnn reg loss", "needs a formula of the reg set");
    }
    roi_coder_.weights = {10.0, 10.0, 5.0, 5.0};
    backbone_ = register_module("backbone", ResNet(options.backbone));
    fpn_ = register_module("fpn", Fpn(backbone_->out_channels(), options.fpn_channels, false));
    rpn_head_ = register_module(
        "rpn",
        RpnHead(options.fpn_channels, static_cast<int64_t>(options.rpn.aspect_ratios.size())));
    box_head_ = register_module("box_head",
                                BoxHead(options.fpn_channels,
                                        options.roi.pool_size,
                                        options.roi.representation,
                                        options.num_classes));
}

void FasterRcnnImpl::SetPrecision(Precision precision, bool channels_last) {
    precision_ = precision;
    channels_last_ = channels_last;
    const auto format =
        channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
    torch::NoGradGuard no_grad;
    for (auto& parameter : parameters()) {
        if (parameter.dim() == 4) {
            parameter.set_data(parameter.contiguous(format));
        }
    }
}

std::vector<at::Tensor> FasterRcnnImpl::Features(const at::Tensor& images) {
    AutocastScope autocast(precision_);
    const at::Tensor input =
        channels_last_ ? images.contiguous(at::MemoryFormat::ChannelsLast) : images;
    std::vector<at::Tensor> levels = fpn_->forward(backbone_->forward(input));
    levels.push_back(torch::max_pool2d(levels.back(), 1, 2));
    return levels;
}

const AnchorGrid& FasterRcnnImpl::Anchors(const std::vector<at::Tensor>& levels) {
    std::vector<int64_t> key;
    std::vector<std::array<int64_t, 2>> sizes;
    for (const auto& level : levels) {
        key.push_back(level.size(2));
        key.push_back(level.size(3));
        sizes.push_back({level.size(2), level.size(3)});
    }
    auto it = anchors_.find(key);
    if (it == anchors_.end()) {
        it = anchors_
                 .emplace(key,
                          MakeAnchors(sizes,
                                      FasterRcnnStrides(),
                                      options_.rpn.anchor_sizes,
                                      options_.rpn.aspect_ratios,
                                      levels[0].device()))
                 .first;
    }
    return it->second;
}

FasterRcnnImpl::RpnOutputs FasterRcnnImpl::RunRpn(
    const std::vector<at::Tensor>& levels, const std::vector<std::array<int64_t, 2>>& sizes) {
    RpnOutputs out;
    {
        AutocastScope autocast(precision_);
        std::tie(out.objectness, out.deltas) = rpn_head_->forward(levels);
    }
    const bool training = is_training();
    out.proposals = SelectProposals(
        out.objectness.detach(),
        out.deltas.detach(),
        Anchors(levels),
        sizes,
        training ? options_.rpn.pre_nms_top_n_train : options_.rpn.pre_nms_top_n_test,
        training ? options_.rpn.post_nms_top_n_train : options_.rpn.post_nms_top_n_test,
        options_.rpn.nms_iou,
        options_.rpn.min_size,
        rpn_coder_);
    return out;
}

std::pair<at::Tensor, at::Tensor> FasterRcnnImpl::RunBoxHead(const std::vector<at::Tensor>& levels,
                                                             const at::Tensor& rois) {
    // RoIAlign runs in float32 whatever the precision: bilinear weights in bf16 would blur
    // small boxes, and the pooled tensor is small next to the feature maps.
    std::vector<at::Tensor> pooled_levels;
    for (int64_t k = 0; k < kPooledLevels; ++k) {
        pooled_levels.push_back(levels[k].to(torch::kFloat));
    }
    const std::vector<int64_t> strides(FasterRcnnStrides().begin(),
                                       FasterRcnnStrides().begin() + kPooledLevels);
    const at::Tensor pooled =
        PoolRois(pooled_levels, strides, rois, options_.roi.pool_size, options_.roi.sampling_ratio);
    AutocastScope autocast(precision_);
    return box_head_->forward(pooled);
}

LossTerms FasterRcnnImpl::Loss(const DetectionBatch& batch) {
    const std::vector<at::Tensor> levels = Features(batch.images);
    const RpnOutputs rpn = RunRpn(levels, batch.sizes);
    const AnchorGrid& anchors = Anchors(levels);

    MatchResult match = MatchAnchors(
        anchors.boxes, batch.boxes, batch.labels, options_.rpn.fg_iou, options_.rpn.bg_iou);
    const at::Tensor sampled =
        SampleBalanced(match.labels, options_.rpn.batch_per_image, options_.rpn.positive_fraction);
    const auto [rpn_cls, rpn_reg] =
        RpnLoss(rpn.objectness, rpn.deltas, anchors.boxes, sampled, match.boxes, rpn_coder_);

    const RoiSamples samples =
        SampleRois(rpn.proposals, batch.boxes, batch.labels, options_.num_classes, options_.roi);
    const auto [logits, deltas] = RunBoxHead(levels, samples.rois);
    const auto [cls, reg] = RoiHeadLoss(logits,
                                        deltas,
                                        samples,
                                        cls_formula_,
                                        reg_formula_,
                                        roi_coder_,
                                        reg_formula_ ? options_.roi.reg_weight : 1.0);
    LossTerms terms;
    terms.terms = {{"rpn_cls", rpn_cls}, {"rpn_reg", rpn_reg}, {"cls", cls}, {"reg", reg}};
    terms.total = rpn_cls + rpn_reg + cls + reg;
    return terms;
}

std::vector<Detections> FasterRcnnImpl::Detect(const at::Tensor& images,
                                               const std::vector<std::array<int64_t, 2>>& sizes) {
    const std::vector<at::Tensor> levels = Features(images);
    const RpnOutputs rpn = RunRpn(levels, sizes);
    std::vector<at::Tensor> rois;
    for (std::size_t b = 0; b < rpn.proposals.size(); ++b) {
        const at::Tensor& p = rpn.proposals[b];
        rois.push_back(
            torch::cat({torch::full({p.size(0), 1}, static_cast<double>(b), p.options()), p}, 1));
    }
    const auto [logits, deltas] = RunBoxHead(levels, torch::cat(rois));
    return PostprocessRois(logits, deltas, rpn.proposals, sizes, roi_coder_, options_.roi);
}

}  // namespace autoloss::detect
