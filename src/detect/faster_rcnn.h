#pragma once

#include <map>
#include <optional>
#include <vector>

#include "detect/anchors.h"
#include "detect/box_coder.h"
#include "detect/detector.h"
#include "detect/fpn.h"
#include "detect/resnet.h"
#include "detect/roi_heads.h"
#include "detect/rpn.h"
#include "expr/formula.h"

namespace autoloss::detect {

// Architecture and training settings of Faster R-CNN with FPN.
struct FasterRcnnOptions {
    int num_classes = 0;
    ResNetOptions backbone;
    int64_t fpn_channels = 256;
    RpnOptions rpn;
    RoiHeadOptions roi;
};

// Faster R-CNN (Ren et al. 2015) on a ResNet + FPN (Lin et al. 2017): the RPN runs on P3-P6
// (P6 is P5 subsampled, as torchvision's LastLevelMaxPool), RoIs pool from P3-P5 with our
// RoIAlign, and the two-FC box head predicts C+1 class logits (background last) and
// class-specific deltas for the C foreground classes. The RPN losses are fixed (binary CE and
// smooth L1); the second-stage losses are the formulas given at construction (SPEC.md §1).
class FasterRcnnImpl : public Detector {
  public:
    // `cls_formula` must be of the multi-class set; `reg_formula` of the regression set, or
    // nullopt for smooth L1 on the deltas (the "CE + Smooth L1" baseline). Throws InputError
    // for a bad option or a formula of the wrong set.
    FasterRcnnImpl(const FasterRcnnOptions& options,
                   expr::Formula cls_formula,
                   std::optional<expr::Formula> reg_formula);

    // Pyramid levels P3-P6 of `images` [B, 3, H, W], each [B, fpn_channels, H/s, W/s] float32
    // (stored channels-last when that layout is selected).
    std::vector<at::Tensor> Features(const at::Tensor& images);

    // The loss terms "rpn_cls", "rpn_reg", "cls", "reg", and their sum as `total`.
    LossTerms Loss(const DetectionBatch& batch) override;
    std::vector<Detections> Detect(const at::Tensor& images,
                                   const std::vector<std::array<int64_t, 2>>& sizes) override;
    void SetPrecision(Precision precision, bool channels_last) override;

    // The anchors of the levels' sizes, built once per input size.
    const AnchorGrid& Anchors(const std::vector<at::Tensor>& levels);

    const FasterRcnnOptions& options() const { return options_; }

  private:
    // Per image proposals [P_b, 4] and the RPN outputs they came from.
    struct RpnOutputs {
        at::Tensor objectness;  // [B, A]
        at::Tensor deltas;      // [B, A, 4]
        std::vector<at::Tensor> proposals;
    };
    RpnOutputs RunRpn(const std::vector<at::Tensor>& levels,
                      const std::vector<std::array<int64_t, 2>>& sizes);
    // Box head outputs (logits [R, C+1], deltas [R, C, 4]) of `rois` [R, 5].
    std::pair<at::Tensor, at::Tensor> RunBoxHead(const std::vector<at::Tensor>& levels,
                                                 const at::Tensor& rois);

    FasterRcnnOptions options_;
    expr::Formula cls_formula_;
    std::optional<expr::Formula> reg_formula_;
    BoxCoder rpn_coder_;
    BoxCoder roi_coder_;
    Precision precision_ = Precision::kFloat32;
    bool channels_last_ = false;
    ResNet backbone_{nullptr};
    Fpn fpn_{nullptr};
    RpnHead rpn_head_{nullptr};
    BoxHead box_head_{nullptr};
    std::map<std::vector<int64_t>, AnchorGrid> anchors_;
};
TORCH_MODULE(FasterRcnn);

// The FPN strides of the RPN levels P3-P6; RoIs pool from the first three.
inline const std::vector<int64_t>& FasterRcnnStrides() {
    static const std::vector<int64_t> strides = {8, 16, 32, 64};
    return strides;
}

}  // namespace autoloss::detect
