#pragma once

#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/container/sequential.h>

#include "detect/detector.h"
#include "detect/fcos_targets.h"
#include "detect/fpn.h"
#include "detect/resnet.h"
#include "expr/formula.h"

namespace autoloss::detect {

// Architecture and inference settings of FCOS (Tian et al. 2019) with the IoU quality branch.
struct FcosOptions {
    int num_classes = 0;
    ResNetOptions backbone;
    int64_t fpn_channels = 256;
    int tower_convs = 4;           // 3x3 conv + GroupNorm + ReLU layers per tower
    double center_radius = 1.5;    // centre sampling radius, in strides
    // Starting value of the per-level distance multipliers (FCOS: 1; torchvision has none,
    // which is the same). The BCCD preset starts at 8; in the two-image overfit test 8 misses
    // the small class that 1 finds (docs/benchmarks.md), so the default stays 1.
    double initial_scale = 1.0;
    // Whether those multipliers are trained (FCOS) or stay at `initial_scale` (torchvision).
    bool learn_scales = true;
    double score_threshold = 0.05;  // inference: sqrt(cls · quality) below this is dropped
    int64_t candidates_per_level = 1000;
    double nms_iou = 0.6;
    int64_t max_detections = 100;  // per image
};

// FCOS: ResNet + FPN P3-P7 + shared GroupNorm towers, per-level scales, distances normalised by
// stride, and a quality branch predicting the IoU of the decoded box with its ground truth
// (replacing centerness, SPEC.md §3). Losses are the formulas given at construction.
class FcosImpl : public Detector {
public:
    // Throws InputError for a bad option; `cls_formula` must be of the binary set and
    // `reg_formula` of the regression set.
    FcosImpl(const FcosOptions& options, expr::Formula cls_formula, expr::Formula reg_formula);

    // Raw outputs for `images` [B, 3, H, W] (float32, any layout), float32 regardless of the
    // precision, with the location grid they correspond to.
    std::pair<FcosOutputs, const PointGrid*> Forward(const at::Tensor& images);

    LossTerms Loss(const DetectionBatch& batch) override;
    std::vector<Detections> Detect(const at::Tensor& images,
                                   const std::vector<std::array<int64_t, 2>>& sizes) override;
    void SetPrecision(Precision precision, bool channels_last) override;

    // Decodes raw outputs into per-image detections (score threshold, top candidates per
    // level, per-class NMS, cap), clipped to each image's valid `sizes`.
    std::vector<Detections> Postprocess(const FcosOutputs& outputs,
                                        const PointGrid& grid,
                                        const std::vector<std::array<int64_t, 2>>& sizes) const;

    const FcosOptions& options() const { return options_; }

private:
    const PointGrid& Grid(const std::vector<at::Tensor>& levels);

    FcosOptions options_;
    expr::Formula cls_formula_;
    expr::Formula reg_formula_;
    Precision precision_ = Precision::kFloat32;
    bool channels_last_ = false;
    ResNet backbone_{nullptr};
    Fpn fpn_{nullptr};
    torch::nn::Sequential cls_tower_{nullptr};
    torch::nn::Sequential reg_tower_{nullptr};
    torch::nn::Conv2d cls_logits_{nullptr};
    torch::nn::Conv2d reg_ltrb_{nullptr};
    torch::nn::Conv2d quality_{nullptr};
    at::Tensor scales_;  // [5] per-level multipliers of the distances
    // Location grids by feature-map sizes, so target assignment never rebuilds them.
    std::map<std::vector<int64_t>, PointGrid> grids_;
};
TORCH_MODULE(Fcos);

// The FPN strides of P3-P7.
inline const std::vector<int64_t>& FcosStrides() {
    static const std::vector<int64_t> strides = {8, 16, 32, 64, 128};
    return strides;
}

}  // namespace autoloss::detect
