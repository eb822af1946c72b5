#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "detect/anchors.h"
#include "detect/box_coder.h"

namespace autoloss::detect {
namespace {

TEST(AnchorsTest, CoverEveryCellOfEveryLevelInHeadOrder) {
    const AnchorGrid grid =
        MakeAnchors({{4, 5}, {2, 3}}, {8, 16}, {32, 64}, {0.5, 1.0, 2.0}, torch::kCPU);
    EXPECT_EQ(grid.level_sizes, (std::vector<int64_t>{60, 18}));
    ASSERT_EQ(grid.boxes.sizes(), (std::vector<int64_t>{78, 4}));
    const at::Tensor centre_x = (grid.boxes.select(1, 0) + grid.boxes.select(1, 2)) / 2;
    const at::Tensor centre_y = (grid.boxes.select(1, 1) + grid.boxes.select(1, 3)) / 2;
    // Level 0, cell (y=1, x=2), third shape: index (1·5 + 2)·3 + 2.
    EXPECT_FLOAT_EQ(centre_x[23].item<float>(), 2.5f * 8);
    EXPECT_FLOAT_EQ(centre_y[23].item<float>(), 1.5f * 8);
    // Level 1, cell (y=1, x=0), first shape.
    EXPECT_FLOAT_EQ(centre_x[60 + 9].item<float>(), 0.5f * 16);
    EXPECT_FLOAT_EQ(centre_y[60 + 9].item<float>(), 1.5f * 16);
}

TEST(AnchorsTest, ShapesHaveTheLevelAreaAndTheirRatio) {
    const AnchorGrid grid = MakeAnchors({{1, 1}}, {16}, {40}, {0.5, 1.0, 2.0}, torch::kCPU);
    const at::Tensor w = grid.boxes.select(1, 2) - grid.boxes.select(1, 0);
    const at::Tensor h = grid.boxes.select(1, 3) - grid.boxes.select(1, 1);
    const std::vector<double> ratios = {0.5, 1.0, 2.0};
    for (int k = 0; k < 3; ++k) {
        EXPECT_NEAR((w[k] * h[k]).item<float>(), 1600.0f, 1e-2);
        EXPECT_NEAR((h[k] / w[k]).item<float>(), ratios[k], 1e-5);
    }
}

TEST(BoxCoderTest, DecodeInvertsEncode) {
    torch::manual_seed(4);
    const at::Tensor xy = torch::rand({50, 2}, torch::kDouble) * 100;
    const at::Tensor reference =
        torch::cat({xy, xy + 1 + torch::rand({50, 2}, torch::kDouble) * 80}, 1);
    const at::Tensor xy2 = torch::rand({50, 2}, torch::kDouble) * 100;
    const at::Tensor boxes =
        torch::cat({xy2, xy2 + 1 + torch::rand({50, 2}, torch::kDouble) * 80}, 1);
    for (const auto& weights :
         {std::array<double, 4>{1, 1, 1, 1}, std::array<double, 4>{10, 10, 5, 5}}) {
        BoxCoder coder;
        coder.weights = weights;
        const at::Tensor deltas = coder.Encode(reference, boxes);
        EXPECT_TRUE(torch::allclose(coder.Decode(reference, deltas), boxes, 1e-9, 1e-9));
        EXPECT_LT(coder.Encode(reference, reference).abs().max().item<double>(), 1e-12);
    }
}

TEST(BoxCoderTest, KnownDeltasAndTheSizeClamp) {
    BoxCoder coder;
    coder.weights = {10, 10, 5, 5};
    const at::Tensor reference = torch::tensor({{0.0f, 0.0f, 10.0f, 20.0f}});
    // Centre moved by (+1, -2), width doubled, height kept.
    const at::Tensor box = torch::tensor({{-4.0f, -2.0f, 16.0f, 18.0f}});
    const at::Tensor deltas = coder.Encode(reference, box);
    EXPECT_TRUE(
        torch::allclose(deltas, torch::tensor({{1.0f, -1.0f, 5.0f * std::log(2.0f), 0.0f}})));
    // A huge dw is clamped at ln(1000/16) before exp.
    const at::Tensor wild = coder.Decode(reference, torch::tensor({{0.0f, 0.0f, 500.0f, 0.0f}}));
    EXPECT_NEAR((wild[0][2] - wild[0][0]).item<float>(), 10.0f * 1000.0f / 16.0f, 1e-2);
}

TEST(BoxCoderTest, DecodeBroadcastsOneReferenceOverClasses) {
    BoxCoder coder;
    const at::Tensor reference =
        torch::tensor({{0.0f, 0.0f, 10.0f, 10.0f}}).unsqueeze(1);  // [1,1,4]
    const at::Tensor deltas = torch::zeros({1, 3, 4});
    EXPECT_EQ(coder.Decode(reference, deltas).sizes(), (std::vector<int64_t>{1, 3, 4}));
}

TEST(BoxCoderTest, ClipKeepsBoxesInsideTheImage) {
    const at::Tensor clipped = ClipBoxes(torch::tensor({{-5.0f, 3.0f, 120.0f, 90.0f}}), 80, 100);
    EXPECT_TRUE(torch::equal(clipped, torch::tensor({{0.0f, 3.0f, 100.0f, 80.0f}})));
}

}  // namespace
}  // namespace autoloss::detect
