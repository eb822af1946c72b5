#include "detect/box_ops.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace autoloss::detect {
namespace {

at::Tensor RandomBoxes(int64_t n, float extent = 100.0f) {
    const at::Tensor xy = torch::rand({n, 2}) * extent;
    const at::Tensor wh = torch::rand({n, 2}) * extent / 3 + 1;
    return torch::cat({xy, xy + wh}, 1);
}

// Textbook IoU of two boxes, one pair at a time.
double Iou(const float* a, const float* b) {
    const double iw = std::max(0.0, double(std::min(a[2], b[2])) - std::max(a[0], b[0]));
    const double ih = std::max(0.0, double(std::min(a[3], b[3])) - std::max(a[1], b[1]));
    const double inter = iw * ih;
    const double u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    return u > 0 ? inter / u : 0.0;
}

TEST(BoxOpsTest, IouMatchesPairwiseReference) {
    torch::manual_seed(1);
    const at::Tensor a = RandomBoxes(7);
    const at::Tensor b = RandomBoxes(5);
    const at::Tensor iou = BoxIou(a, b);
    for (int i = 0; i < 7; ++i) {
        for (int j = 0; j < 5; ++j) {
            EXPECT_NEAR(iou[i][j].item<float>(),
                        Iou(a[i].data_ptr<float>(), b[j].contiguous().data_ptr<float>()), 1e-5);
        }
    }
}

TEST(BoxOpsTest, AlignedPartsGiveIouAndEnclosingBox) {
    const at::Tensor a = torch::tensor({{0.0f, 0.0f, 2.0f, 2.0f}});
    const at::Tensor b = torch::tensor({{1.0f, 1.0f, 4.0f, 3.0f}});
    const IouParts parts = AlignedIouParts(a, b);
    EXPECT_FLOAT_EQ(parts.intersection.item<float>(), 1.0f);
    EXPECT_FLOAT_EQ(parts.union_area.item<float>(), 4.0f + 6.0f - 1.0f);
    EXPECT_FLOAT_EQ(parts.enclosing.item<float>(), 4.0f * 3.0f);
}

TEST(BoxOpsTest, LtrbCodingRoundTrips) {
    torch::manual_seed(2);
    const at::Tensor boxes = RandomBoxes(50);
    const at::Tensor points = (boxes.narrow(1, 0, 2) + boxes.narrow(1, 2, 2)) / 2 +
                              torch::randn({50, 2});
    const at::Tensor strides = torch::tensor({8.0f, 16.0f, 32.0f}).repeat(17).narrow(0, 0, 50);
    const at::Tensor decoded = DecodeLtrb(points, EncodeLtrb(points, boxes, strides), strides);
    EXPECT_TRUE(torch::allclose(decoded, boxes, 1e-4, 1e-4));
}

// Greedy NMS written the plain way: sort, then compare each box with every kept box.
std::vector<int64_t> BruteForceNms(const at::Tensor& boxes, const at::Tensor& scores,
                                   const at::Tensor& classes, double threshold) {
    std::vector<int64_t> order(boxes.size(0));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) {
        return scores[x].item<float>() > scores[y].item<float>();
    });
    std::vector<int64_t> keep;
    for (const int64_t i : order) {
        bool suppressed = false;
        for (const int64_t k : keep) {
            if (classes[k].item<int64_t>() == classes[i].item<int64_t>() &&
                Iou(boxes[k].data_ptr<float>(), boxes[i].data_ptr<float>()) > threshold) {
                suppressed = true;
                break;
            }
        }
        if (!suppressed) {
            keep.push_back(i);
        }
    }
    return keep;
}

TEST(BoxOpsTest, BatchedNmsMatchesBruteForce) {
    torch::manual_seed(3);
    for (int trial = 0; trial < 20; ++trial) {
        const at::Tensor boxes = RandomBoxes(60, 60.0f).contiguous();
        const at::Tensor scores = torch::rand({60});
        const at::Tensor classes = torch::randint(0, 3, {60}, torch::kLong);
        const at::Tensor keep = BatchedNms(boxes, scores, classes, 0.5);
        const std::vector<int64_t> expected = BruteForceNms(boxes, scores, classes, 0.5);
        ASSERT_EQ(keep.size(0), static_cast<int64_t>(expected.size()));
        for (std::size_t k = 0; k < expected.size(); ++k) {
            EXPECT_EQ(keep[k].item<int64_t>(), expected[k]);
        }
    }
}

TEST(BoxOpsTest, BatchedNmsOfNothingIsEmpty) {
    const at::Tensor keep = BatchedNms(torch::zeros({0, 4}), torch::zeros({0}),
                                       torch::zeros({0}, torch::kLong), 0.5);
    EXPECT_EQ(keep.size(0), 0);
}

}  // namespace
}  // namespace autoloss::detect
