#include "detect/fcos.h"

#include <cmath>
#include <string>

#include <torch/torch.h>

#include "detect/box_ops.h"
#include "detect/precision.h"
#include "util/error.h"

namespace autoloss::detect {

namespace {

torch::nn::Conv2d HeadConv(int64_t in, int64_t out, double bias) {
    torch::nn::Conv2d conv(torch::nn::Conv2dOptions(in, out, 3).padding(1));
    torch::nn::init::normal_(conv->weight, 0.0, 0.01);
    torch::nn::init::constant_(conv->bias, bias);
    return conv;
}

// GroupNorm computed in float32: libtorch 1.13's CPU kernel refuses a bf16 input with float32
// affine parameters, and autocast leaves group_norm alone; the next convolution casts back.
class Float32GroupNormImpl : public torch::nn::Module {
  public:
    Float32GroupNormImpl(int64_t groups, int64_t channels)
        : norm_(register_module(
              "norm", torch::nn::GroupNorm(torch::nn::GroupNormOptions(groups, channels)))) {}

    at::Tensor forward(const at::Tensor& x) { return norm_->forward(x.to(torch::kFloat)); }

  private:
    torch::nn::GroupNorm norm_;
};
TORCH_MODULE(Float32GroupNorm);

torch::nn::Sequential Tower(int64_t channels, int convs) {
    // 32 groups as in FCOS, fewer when a light variant has fewer channels.
    int64_t groups = std::min<int64_t>(32, channels);
    while (channels % groups != 0) {
        --groups;
    }
    torch::nn::Sequential tower;
    for (int k = 0; k < convs; ++k) {
        tower->push_back(HeadConv(channels, channels, 0.0));
        tower->push_back(Float32GroupNorm(groups, channels));
        tower->push_back(torch::nn::ReLU(torch::nn::ReLUOptions(true)));
    }
    return tower;
}

// [B, K, H, W] -> [B, H·W, K], the level-major location order of PointGrid.
at::Tensor Flatten(const at::Tensor& map) {
    return map.permute({0, 2, 3, 1}).reshape({map.size(0), -1, map.size(1)});
}

}  // namespace

FcosImpl::FcosImpl(const FcosOptions& options, expr::Formula cls_formula, expr::Formula reg_formula)
    : options_(options),
      cls_formula_(std::move(cls_formula)),
      reg_formula_(std::move(reg_formula)) {
    if (options.num_classes < 1) {
        throw InputError("fcos num_classes", std::to_string(options.num_classes) + " < 1");
    }
    if (options.fpn_channels < 8) {
        throw InputError("fcos fpn_channels", std::to_string(options.fpn_channels) + " < 8");
    }
    if (cls_formula_.set() != expr::SetKind::kClsBinary) {
        throw InputError("fcos cls loss", "needs a formula of the cls-binary set");
    }
    if (reg_formula_.set() != expr::SetKind::kReg) {
        throw InputError("fcos reg loss", "needs a formula of the reg set");
    }
    backbone_ = register_module("backbone", ResNet(options.backbone));
    fpn_ = register_module("fpn", Fpn(backbone_->out_channels(), options.fpn_channels));
    const int64_t ch = options.fpn_channels;
    cls_tower_ = register_module("cls_tower", Tower(ch, options.tower_convs));
    reg_tower_ = register_module("reg_tower", Tower(ch, options.tower_convs));
    // Prior probability 0.01 for every class at the start, so the many negatives do not swamp
    // the first iterations (RetinaNet/FCOS initialisation).
    cls_logits_ = register_module("cls_logits",
                                  HeadConv(ch, options.num_classes, -std::log((1 - 0.01) / 0.01)));
    reg_ltrb_ = register_module("reg_ltrb", HeadConv(ch, 4, 0.0));
    quality_ = register_module("quality", HeadConv(ch, 1, 0.0));
    if (!(options.initial_scale > 0.0)) {
        throw InputError("fcos initial_scale", std::to_string(options.initial_scale) + " <= 0");
    }
    scales_ = register_parameter(
        "scales",
        torch::full({static_cast<int64_t>(FcosStrides().size())}, options.initial_scale),
        options.learn_scales);
}

void FcosImpl::SetPrecision(Precision precision, bool channels_last) {
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

const PointGrid& FcosImpl::Grid(const std::vector<at::Tensor>& levels) {
    std::vector<int64_t> key;
    std::vector<std::array<int64_t, 2>> sizes;
    for (const auto& level : levels) {
        key.push_back(level.size(2));
        key.push_back(level.size(3));
        sizes.push_back({level.size(2), level.size(3)});
    }
    auto it = grids_.find(key);
    if (it == grids_.end()) {
        it = grids_.emplace(key, MakePointGrid(sizes, FcosStrides(), levels[0].device())).first;
    }
    return it->second;
}

std::pair<FcosOutputs, const PointGrid*> FcosImpl::Forward(const at::Tensor& images) {
    std::vector<at::Tensor> logits, ltrb, quality;
    std::vector<at::Tensor> levels;
    {
        AutocastScope autocast(precision_);
        const at::Tensor input =
            channels_last_ ? images.contiguous(at::MemoryFormat::ChannelsLast) : images;
        levels = fpn_->forward(backbone_->forward(input));
        for (std::size_t k = 0; k < levels.size(); ++k) {
            const at::Tensor cls = cls_tower_->forward(levels[k]);
            const at::Tensor reg = reg_tower_->forward(levels[k]);
            logits.push_back(Flatten(cls_logits_->forward(cls)));
            ltrb.push_back(Flatten(reg_ltrb_->forward(reg)) * scales_[k]);
            quality.push_back(Flatten(quality_->forward(reg)));
        }
    }
    FcosOutputs outputs;
    outputs.logits = torch::cat(logits, 1).to(torch::kFloat);
    // Distances in stride units must be non-negative; ReLU rather than exp keeps the scale
    // linear (FCOS's normalised-regression variant).
    outputs.ltrb = torch::cat(ltrb, 1).to(torch::kFloat).relu();
    outputs.quality = torch::cat(quality, 1).to(torch::kFloat).squeeze(2);
    return {outputs, &Grid(levels)};
}

LossTerms FcosImpl::Loss(const DetectionBatch& batch) {
    const auto [outputs, grid] = Forward(batch.images);
    const FcosTargets targets =
        AssignFcosTargets(*grid, batch.boxes, batch.labels, options_.center_radius);
    return FcosLoss(*grid, targets, outputs, cls_formula_, reg_formula_);
}

std::vector<Detections> FcosImpl::Detect(const at::Tensor& images,
                                         const std::vector<std::array<int64_t, 2>>& sizes) {
    const auto [outputs, grid] = Forward(images);
    return Postprocess(outputs, *grid, sizes);
}

std::vector<Detections> FcosImpl::Postprocess(
    const FcosOutputs& outputs,
    const PointGrid& grid,
    const std::vector<std::array<int64_t, 2>>& sizes) const {
    const int64_t c = outputs.logits.size(2);
    std::vector<Detections> result;
    for (int64_t b = 0; b < outputs.logits.size(0); ++b) {
        const at::Tensor scores_all =
            (outputs.logits[b].sigmoid() * outputs.quality[b].sigmoid().unsqueeze(1)).sqrt();
        std::vector<at::Tensor> boxes, scores, labels;
        int64_t offset = 0;
        for (const int64_t n : grid.level_sizes) {
            const at::Tensor level_scores = scores_all.narrow(0, offset, n).reshape(-1);
            at::Tensor keep = (level_scores > options_.score_threshold).nonzero().squeeze(1);
            at::Tensor kept_scores = level_scores.index_select(0, keep);
            if (keep.size(0) > options_.candidates_per_level) {
                const auto top = kept_scores.topk(options_.candidates_per_level);
                kept_scores = std::get<0>(top);
                keep = keep.index_select(0, std::get<1>(top));
            }
            const at::Tensor location = keep.div(c, "floor") + offset;
            boxes.push_back(DecodeLtrb(grid.points.index_select(0, location),
                                       outputs.ltrb[b].index_select(0, location),
                                       grid.strides.index_select(0, location)));
            scores.push_back(kept_scores);
            labels.push_back(keep.remainder(c));
            offset += n;
        }
        Detections det;
        at::Tensor all_boxes = torch::cat(boxes);
        const double height = static_cast<double>(sizes[b][0]);
        const double width = static_cast<double>(sizes[b][1]);
        all_boxes = torch::stack({all_boxes.select(1, 0).clamp(0, width),
                                  all_boxes.select(1, 1).clamp(0, height),
                                  all_boxes.select(1, 2).clamp(0, width),
                                  all_boxes.select(1, 3).clamp(0, height)},
                                 1);
        const at::Tensor all_scores = torch::cat(scores);
        const at::Tensor all_labels = torch::cat(labels);
        at::Tensor keep = BatchedNms(all_boxes, all_scores, all_labels, options_.nms_iou);
        if (keep.size(0) > options_.max_detections) {
            keep = keep.narrow(0, 0, options_.max_detections);
        }
        det.boxes = all_boxes.index_select(0, keep);
        det.scores = all_scores.index_select(0, keep);
        det.labels = all_labels.index_select(0, keep);
        result.push_back(std::move(det));
    }
    return result;
}

}  // namespace autoloss::detect
