#include "detect/anchors.h"

#include <cmath>

#include <torch/torch.h>

#include "util/check.h"

namespace autoloss::detect {

AnchorGrid MakeAnchors(const std::vector<std::array<int64_t, 2>>& feature_sizes,
                       const std::vector<int64_t>& strides,
                       const std::vector<double>& sizes,
                       const std::vector<double>& ratios,
                       const at::Device& device) {
    AUTOLOSS_CHECK(feature_sizes.size() == strides.size() && strides.size() == sizes.size(),
                   "one stride and one anchor size per level");
    AnchorGrid grid;
    std::vector<at::Tensor> levels;
    for (std::size_t k = 0; k < feature_sizes.size(); ++k) {
        std::vector<float> half;  // half width, half height per ratio
        for (const double ratio : ratios) {
            half.push_back(static_cast<float>(0.5 * sizes[k] / std::sqrt(ratio)));
            half.push_back(static_cast<float>(0.5 * sizes[k] * std::sqrt(ratio)));
        }
        const int64_t a = static_cast<int64_t>(ratios.size());
        const at::Tensor wh = torch::tensor(half).view({1, a, 2});
        const auto [h, w] = feature_sizes[k];
        const double s = static_cast<double>(strides[k]);
        const at::Tensor ys = (torch::arange(h, torch::kFloat) + 0.5) * s;
        const at::Tensor xs = (torch::arange(w, torch::kFloat) + 0.5) * s;
        const auto mesh = torch::meshgrid({ys, xs}, "ij");
        const at::Tensor centres =
            torch::stack({mesh[1].reshape(-1), mesh[0].reshape(-1)}, 1).view({-1, 1, 2});
        levels.push_back(torch::cat({centres - wh, centres + wh}, 2).view({-1, 4}));
        grid.level_sizes.push_back(h * w * a);
    }
    grid.boxes = torch::cat(levels).to(device);
    return grid;
}

}  // namespace autoloss::detect
