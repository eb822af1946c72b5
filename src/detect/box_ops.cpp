#include "detect/box_ops.h"

#include <algorithm>
#include <vector>

#include <torch/torch.h>

namespace autoloss::detect {

namespace {

at::Tensor Area(const at::Tensor& boxes) {
    return (boxes.select(-1, 2) - boxes.select(-1, 0)).clamp_min(0) *
           (boxes.select(-1, 3) - boxes.select(-1, 1)).clamp_min(0);
}

}  // namespace

at::Tensor BoxIou(const at::Tensor& a, const at::Tensor& b) {
    const at::Tensor lt =
        torch::max(a.unsqueeze(1).narrow(-1, 0, 2), b.unsqueeze(0).narrow(-1, 0, 2));
    const at::Tensor rb =
        torch::min(a.unsqueeze(1).narrow(-1, 2, 2), b.unsqueeze(0).narrow(-1, 2, 2));
    const at::Tensor wh = (rb - lt).clamp_min(0);
    const at::Tensor inter = wh.select(-1, 0) * wh.select(-1, 1);
    const at::Tensor uni = Area(a).unsqueeze(1) + Area(b).unsqueeze(0) - inter;
    // Degenerate pairs (both boxes empty) have no overlap rather than 0/0.
    return torch::where(uni > 0, inter / uni.clamp_min(1e-12), torch::zeros_like(inter));
}

IouParts AlignedIouParts(const at::Tensor& pred, const at::Tensor& target) {
    const at::Tensor lt = torch::max(pred.narrow(-1, 0, 2), target.narrow(-1, 0, 2));
    const at::Tensor rb = torch::min(pred.narrow(-1, 2, 2), target.narrow(-1, 2, 2));
    const at::Tensor wh = (rb - lt).clamp_min(0);
    IouParts parts;
    parts.intersection = wh.select(-1, 0) * wh.select(-1, 1);
    parts.union_area = Area(pred) + Area(target) - parts.intersection;
    const at::Tensor elt = torch::min(pred.narrow(-1, 0, 2), target.narrow(-1, 0, 2));
    const at::Tensor erb = torch::max(pred.narrow(-1, 2, 2), target.narrow(-1, 2, 2));
    const at::Tensor ewh = (erb - elt).clamp_min(0);
    parts.enclosing = ewh.select(-1, 0) * ewh.select(-1, 1);
    return parts;
}

at::Tensor EncodeLtrb(const at::Tensor& points,
                      const at::Tensor& boxes,
                      const at::Tensor& strides) {
    const at::Tensor x = points.select(-1, 0);
    const at::Tensor y = points.select(-1, 1);
    return torch::stack({x - boxes.select(-1, 0),
                         y - boxes.select(-1, 1),
                         boxes.select(-1, 2) - x,
                         boxes.select(-1, 3) - y},
                        -1) /
           strides.unsqueeze(-1);
}

at::Tensor DecodeLtrb(const at::Tensor& points, const at::Tensor& ltrb, const at::Tensor& strides) {
    const at::Tensor d = ltrb * strides.unsqueeze(-1);
    const at::Tensor x = points.select(-1, 0);
    const at::Tensor y = points.select(-1, 1);
    return torch::stack(
        {x - d.select(-1, 0), y - d.select(-1, 1), x + d.select(-1, 2), y + d.select(-1, 3)}, -1);
}

at::Tensor BatchedNms(const at::Tensor& boxes,
                      const at::Tensor& scores,
                      const at::Tensor& classes,
                      double iou_threshold) {
    const int64_t n = boxes.size(0);
    if (n == 0) {
        return torch::empty({0}, torch::kLong);
    }
    const at::Tensor order = std::get<1>(scores.to(torch::kCPU).sort(0, /*descending=*/true));
    const at::Tensor sorted =
        boxes.to(torch::kCPU, torch::kFloat).index_select(0, order).contiguous();
    const at::Tensor sorted_classes =
        classes.to(torch::kCPU, torch::kLong).index_select(0, order).contiguous();
    const float* b = sorted.data_ptr<float>();
    const int64_t* c = sorted_classes.data_ptr<int64_t>();
    const int64_t* index = order.data_ptr<int64_t>();
    std::vector<float> area(n);
    for (int64_t i = 0; i < n; ++i) {
        area[i] =
            std::max(0.0f, b[4 * i + 2] - b[4 * i]) * std::max(0.0f, b[4 * i + 3] - b[4 * i + 1]);
    }
    // Greedy suppression row by row: each kept box is compared only with the lower-scoring boxes
    // still alive, with no N x N matrix (an untrained model sends thousands of boxes here).
    const float threshold = static_cast<float>(iou_threshold);
    std::vector<char> removed(n, 0);
    std::vector<int64_t> keep;
    for (int64_t i = 0; i < n; ++i) {
        if (removed[i]) {
            continue;
        }
        keep.push_back(index[i]);
        const float* bi = b + 4 * i;
        for (int64_t j = i + 1; j < n; ++j) {
            if (removed[j] || c[j] != c[i]) {
                continue;
            }
            const float* bj = b + 4 * j;
            const float w = std::min(bi[2], bj[2]) - std::max(bi[0], bj[0]);
            const float h = std::min(bi[3], bj[3]) - std::max(bi[1], bj[1]);
            if (w <= 0.0f || h <= 0.0f) {
                continue;
            }
            const float inter = w * h;
            const float uni = area[i] + area[j] - inter;
            removed[j] = uni > 0.0f && inter > threshold * uni;
        }
    }
    return torch::tensor(keep, torch::kLong).to(boxes.device());
}

}  // namespace autoloss::detect
