#include "detect/fcos_targets.h"

#include <limits>

#include <torch/torch.h>

#include "detect/box_ops.h"
#include "expr/primitive_set.h"
#include "expr_torch/lower.h"
#include "util/check.h"

namespace autoloss::detect {

PointGrid MakePointGrid(const std::vector<std::array<int64_t, 2>>& feature_sizes,
                        const std::vector<int64_t>& strides,
                        const at::Device& device) {
    AUTOLOSS_CHECK(feature_sizes.size() == strides.size(), "one stride per level");
    const auto options = torch::TensorOptions().dtype(torch::kFloat);
    std::vector<at::Tensor> points, level_strides, lower, upper;
    PointGrid grid;
    const float inf = std::numeric_limits<float>::infinity();
    for (std::size_t k = 0; k < strides.size(); ++k) {
        const auto [h, w] = feature_sizes[k];
        const double s = static_cast<double>(strides[k]);
        const at::Tensor ys = torch::arange(h, options) * s + s / 2;
        const at::Tensor xs = torch::arange(w, options) * s + s / 2;
        const auto mesh = torch::meshgrid({ys, xs}, "ij");
        points.push_back(torch::stack({mesh[1].reshape(-1), mesh[0].reshape(-1)}, 1));
        const int64_t n = h * w;
        level_strides.push_back(torch::full({n}, s, options));
        lower.push_back(torch::full({n}, k == 0 ? 0.0f : static_cast<float>(4 * s), options));
        upper.push_back(
            torch::full({n}, k + 1 == strides.size() ? inf : static_cast<float>(8 * s), options));
        grid.level_sizes.push_back(n);
    }
    grid.points = torch::cat(points).to(device);
    grid.strides = torch::cat(level_strides).to(device);
    grid.lower = torch::cat(lower).to(device);
    grid.upper = torch::cat(upper).to(device);
    return grid;
}

FcosTargets AssignFcosTargets(const PointGrid& grid,
                              const at::Tensor& boxes,
                              const at::Tensor& labels,
                              double center_radius) {
    const int64_t b = boxes.size(0);
    const int64_t p = grid.points.size(0);
    FcosTargets targets;
    if (boxes.size(1) == 0) {
        targets.labels = torch::full({b, p}, -1, labels.options());
        targets.boxes = torch::zeros({b, p, 4}, boxes.options());
        return targets;
    }
    // Every quantity below is [B, P, G]: images x locations x boxes.
    const at::Tensor x = grid.points.select(1, 0).view({1, p, 1});
    const at::Tensor y = grid.points.select(1, 1).view({1, p, 1});
    const at::Tensor x1 = boxes.select(2, 0).unsqueeze(1);
    const at::Tensor y1 = boxes.select(2, 1).unsqueeze(1);
    const at::Tensor x2 = boxes.select(2, 2).unsqueeze(1);
    const at::Tensor y2 = boxes.select(2, 3).unsqueeze(1);
    const at::Tensor largest = torch::max(torch::max(x - x1, y - y1), torch::max(x2 - x, y2 - y));
    const at::Tensor r = grid.strides.view({1, p, 1}) * center_radius;
    const at::Tensor cx = (x1 + x2) / 2;
    const at::Tensor cy = (y1 + y2) / 2;
    // The centre region clipped to the box, so every positive also lies inside its box.
    const at::Tensor in_center = (x > torch::max(cx - r, x1)) & (x < torch::min(cx + r, x2)) &
                                 (y > torch::max(cy - r, y1)) & (y < torch::min(cy + r, y2));
    const at::Tensor in_range =
        (largest > grid.lower.view({1, p, 1})) & (largest <= grid.upper.view({1, p, 1}));
    const at::Tensor valid = (labels >= 0).unsqueeze(1);
    const at::Tensor candidate = in_center & in_range & valid;
    const at::Tensor area = ((x2 - x1) * (y2 - y1)).expand({b, p, boxes.size(1)});
    const at::Tensor masked = torch::where(
        candidate, area, torch::full({}, std::numeric_limits<float>::infinity(), area.options()));
    const auto [min_area, match] = masked.min(2);
    const at::Tensor positive = min_area < std::numeric_limits<float>::infinity();
    targets.labels =
        torch::where(positive, labels.gather(1, match), torch::full({}, -1L, labels.options()));
    targets.boxes = boxes.gather(1, match.unsqueeze(2).expand({b, p, 4}));
    return targets;
}

LossTerms FcosLoss(const PointGrid& grid,
                   const FcosTargets& targets,
                   const FcosOutputs& outputs,
                   const expr::Formula& cls_formula,
                   const expr::Formula& reg_formula) {
    AUTOLOSS_CHECK(cls_formula.set() == expr::SetKind::kClsBinary, "binary cls formula");
    AUTOLOSS_CHECK(reg_formula.set() == expr::SetKind::kReg, "regression formula");
    const int64_t b = outputs.logits.size(0);
    const int64_t p = outputs.logits.size(1);
    const int64_t c = outputs.logits.size(2);
    const at::Tensor labels = targets.labels.reshape(-1);
    const at::Tensor pos = (labels >= 0).nonzero().squeeze(1);
    const int64_t num_pos = pos.size(0);
    const double norm = std::max<double>(num_pos, 1.0);

    // Positive boxes in stride units around the location (translation does not change I, U, E),
    // as the release decodes its normalised distances.
    const at::Tensor strides = grid.strides.repeat({b}).index_select(0, pos);
    const at::Tensor points = grid.points.repeat({b, 1}).index_select(0, pos);
    const at::Tensor pred_ltrb = outputs.ltrb.reshape({-1, 4}).index_select(0, pos);
    const at::Tensor target_ltrb =
        EncodeLtrb(points, targets.boxes.reshape({-1, 4}).index_select(0, pos), strides);
    const auto corners = [](const at::Tensor& ltrb) {
        return torch::stack(
            {-ltrb.select(1, 0), -ltrb.select(1, 1), ltrb.select(1, 2), ltrb.select(1, 3)}, 1);
    };
    const IouParts parts = AlignedIouParts(corners(pred_ltrb), corners(target_ltrb));
    const at::Tensor iou =
        (parts.intersection / parts.union_area.clamp_min(1e-7)).detach().clamp(0, 1);

    const at::Tensor logits = outputs.logits.reshape({b * p, c});
    const at::Tensor pos_labels = labels.index_select(0, pos);
    at::Tensor py = torch::zeros_like(logits);
    py.index_put_({pos, pos_labels}, 1.0f);
    at::Tensor q = torch::zeros_like(logits);
    q.index_put_({pos, pos_labels}, iou);
    const at::Tensor ny = 1.0f - py;
    std::array<at::Tensor, 4> cls_inputs;
    cls_inputs[*cls_formula.primitive_set().FindInput("X", false)] = logits;
    cls_inputs[*cls_formula.primitive_set().FindInput("Q", false)] = q;
    cls_inputs[*cls_formula.primitive_set().FindInput("PY", false)] = py;
    cls_inputs[*cls_formula.primitive_set().FindInput("NY", false)] = ny;
    const at::Tensor alpha = 0.25f * py + 0.75f * ny;
    const at::Tensor cls_loss = (expr::EvaluateTorch(cls_formula, cls_inputs) * alpha).sum() / norm;

    at::Tensor reg_loss;
    at::Tensor quality_loss;
    if (num_pos > 0) {
        std::array<at::Tensor, 3> reg_inputs;
        const auto& reg_set = reg_formula.primitive_set();
        reg_inputs[*reg_set.FindInput("U", false)] = parts.union_area + 1e-7f;
        reg_inputs[*reg_set.FindInput("I", false)] = parts.intersection;
        reg_inputs[*reg_set.FindInput("E", false)] = parts.enclosing + 1e-7f;
        reg_loss = expr::EvaluateTorch(reg_formula, reg_inputs).sum() / norm;
        quality_loss =
            torch::binary_cross_entropy_with_logits(
                outputs.quality.reshape(-1).index_select(0, pos), iou, {}, {}, at::Reduction::Sum) /
            norm;
    } else {
        // No positives: zero terms that still touch the outputs so every parameter gets a
        // (zero) gradient and the graph stays the same shape.
        reg_loss = outputs.ltrb.sum() * 0.0f;
        quality_loss = outputs.quality.sum() * 0.0f;
    }
    LossTerms result;
    result.terms["cls"] = cls_loss;
    result.terms["reg"] = reg_loss;
    result.terms["quality"] = quality_loss;
    result.total = cls_loss + reg_loss + quality_loss;
    return result;
}

}  // namespace autoloss::detect
