#include <limits>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "detect/fcos.h"
#include "detect/fcos_targets.h"

namespace autoloss::detect {
namespace {

class FcosTargetsTest : public ::testing::Test {
protected:
    void SetUp() override {
        torch::manual_seed(4);
        // A 256x320 input: P3..P7 grids of 32x40 ... 2x3.
        std::vector<std::array<int64_t, 2>> sizes;
        for (const int64_t s : FcosStrides()) {
            sizes.push_back({(256 + s - 1) / s, (320 + s - 1) / s});
        }
        grid_ = MakePointGrid(sizes, FcosStrides(), torch::kCPU);
        // Two images, boxes of all sizes; image 1 has a padded row.
        const at::Tensor xy = torch::rand({2, 6, 2}) * torch::tensor({300.0f, 240.0f});
        const at::Tensor wh = torch::rand({2, 6, 2}) * 250 + 4;
        boxes_ = torch::cat({xy, xy + wh}, 2);
        labels_ = torch::randint(0, 3, {2, 6}, torch::kLong);
        labels_[1][5] = -1;
        targets_ = AssignFcosTargets(grid_, boxes_, labels_, 1.5);
    }

    PointGrid grid_;
    at::Tensor boxes_, labels_;
    FcosTargets targets_;
};

TEST_F(FcosTargetsTest, GridHasOneLocationPerCell) {
    EXPECT_EQ(grid_.points.size(0), 32 * 40 + 16 * 20 + 8 * 10 + 4 * 5 + 2 * 3);
    EXPECT_FLOAT_EQ(grid_.points[0][0].item<float>(), 4.0f);
    EXPECT_FLOAT_EQ(grid_.strides[-1].item<float>(), 128.0f);
}

TEST_F(FcosTargetsTest, PositivesLieInTheirBoxCentreRegionAndLevelRange) {
    int positives = 0;
    for (int64_t b = 0; b < 2; ++b) {
        for (int64_t p = 0; p < grid_.points.size(0); ++p) {
            if (targets_.labels[b][p].item<int64_t>() < 0) {
                continue;
            }
            ++positives;
            const float x = grid_.points[p][0].item<float>();
            const float y = grid_.points[p][1].item<float>();
            const float s = grid_.strides[p].item<float>();
            const auto box = targets_.boxes[b][p];
            const float x1 = box[0].item<float>(), y1 = box[1].item<float>();
            const float x2 = box[2].item<float>(), y2 = box[3].item<float>();
            EXPECT_GT(x, x1);
            EXPECT_LT(x, x2);
            EXPECT_GT(y, y1);
            EXPECT_LT(y, y2);
            EXPECT_LT(std::abs(x - (x1 + x2) / 2), 1.5f * s + 1e-3f);
            EXPECT_LT(std::abs(y - (y1 + y2) / 2), 1.5f * s + 1e-3f);
            const float largest = std::max({x - x1, y - y1, x2 - x, y2 - y});
            EXPECT_GT(largest, grid_.lower[p].item<float>());
            EXPECT_LE(largest, grid_.upper[p].item<float>());
        }
    }
    EXPECT_GT(positives, 20);
}

// The per-location loop the vectorised assignment replaces: the smallest eligible box wins.
TEST_F(FcosTargetsTest, MatchesPerLocationReference) {
    const auto bx = boxes_.accessor<float, 3>();
    for (int64_t b = 0; b < 2; ++b) {
        for (int64_t p = 0; p < grid_.points.size(0); p += 7) {
            const float x = grid_.points[p][0].item<float>();
            const float y = grid_.points[p][1].item<float>();
            const float s = grid_.strides[p].item<float>();
            int best = -1;
            float best_area = std::numeric_limits<float>::infinity();
            for (int g = 0; g < 6; ++g) {
                if (labels_[b][g].item<int64_t>() < 0) {
                    continue;
                }
                const float x1 = bx[b][g][0], y1 = bx[b][g][1], x2 = bx[b][g][2], y2 = bx[b][g][3];
                const float cx = (x1 + x2) / 2, cy = (y1 + y2) / 2, r = 1.5f * s;
                const bool centre = x > std::max(cx - r, x1) && x < std::min(cx + r, x2) &&
                                    y > std::max(cy - r, y1) && y < std::min(cy + r, y2);
                const float largest = std::max({x - x1, y - y1, x2 - x, y2 - y});
                const bool range = largest > grid_.lower[p].item<float>() &&
                                   largest <= grid_.upper[p].item<float>();
                const float area = (x2 - x1) * (y2 - y1);
                if (centre && range && area < best_area) {
                    best = g;
                    best_area = area;
                }
            }
            const int64_t expected = best < 0 ? -1 : labels_[b][best].item<int64_t>();
            ASSERT_EQ(targets_.labels[b][p].item<int64_t>(), expected) << "b=" << b << " p=" << p;
            if (best >= 0) {
                EXPECT_TRUE(torch::equal(targets_.boxes[b][p], boxes_[b][best]));
            }
        }
    }
}

TEST_F(FcosTargetsTest, ImagesWithoutBoxesAreAllBackground) {
    const FcosTargets empty = AssignFcosTargets(grid_, torch::zeros({2, 0, 4}),
                                                torch::zeros({2, 0}, torch::kLong), 1.5);
    EXPECT_EQ(empty.labels.max().item<int64_t>(), -1);
    const FcosTargets padded = AssignFcosTargets(grid_, boxes_, torch::full({2, 6}, -1L), 1.5);
    EXPECT_EQ(padded.labels.max().item<int64_t>(), -1);
}

}  // namespace
}  // namespace autoloss::detect
