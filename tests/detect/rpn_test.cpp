#include <gtest/gtest.h>
#include <torch/torch.h>

#include "detect/anchors.h"
#include "detect/box_ops.h"
#include "detect/rpn.h"

namespace autoloss::detect {
namespace {

// Anchors of a 96x128 input on two levels, and two images of ground truth (one padded row,
// one zero-area box as BCCD has).
class RpnTest : public ::testing::Test {
  protected:
    void SetUp() override {
        torch::manual_seed(5);
        grid_ = MakeAnchors({{12, 16}, {6, 8}}, {8, 16}, {32, 64}, {0.5, 1.0, 2.0}, torch::kCPU);
        boxes_ = torch::tensor({{{10.0f, 12.0f, 50.0f, 44.0f},
                                 {60.0f, 20.0f, 120.0f, 90.0f},
                                 {70.0f, 5.0f, 78.0f, 11.0f}},
                                {{30.0f, 30.0f, 30.0f, 30.0f},
                                 {5.0f, 40.0f, 100.0f, 95.0f},
                                 {0.0f, 0.0f, 0.0f, 0.0f}}});
        labels_ = torch::tensor({{0L, 2L, 1L}, {1L, 0L, -1L}});
    }

    AnchorGrid grid_;
    at::Tensor boxes_;
    at::Tensor labels_;
};

TEST_F(RpnTest, MatchingFollowsTheIouThresholdsAndGivesEveryBoxAnAnchor) {
    const MatchResult match = MatchAnchors(grid_.boxes, boxes_, labels_, 0.7, 0.3);
    for (int64_t b = 0; b < 2; ++b) {
        const at::Tensor real = (labels_[b] >= 0).nonzero().squeeze(1);
        const at::Tensor iou = BoxIou(boxes_[b].index_select(0, real), grid_.boxes);  // [G, A]
        const at::Tensor best = std::get<0>(iou.max(0));
        const at::Tensor label = match.labels[b];
        // Negatives overlap nothing by 0.3; ignored anchors lie between the thresholds.
        EXPECT_TRUE(torch::all(best.masked_select(label == 0) < 0.3).item<bool>());
        const at::Tensor ignored = best.masked_select(label == -1);
        EXPECT_TRUE(torch::all((ignored >= 0.3) & (ignored < 0.7)).item<bool>());
        // A positive clears 0.7 or is the best anchor of some box.
        const at::Tensor best_of_box = std::get<0>(iou.max(1, true));
        const at::Tensor is_best = ((iou == best_of_box) & (best_of_box > 0)).any(0);
        EXPECT_TRUE(
            torch::all((best >= 0.7).logical_or(is_best).masked_select(label == 1)).item<bool>());
        // Every box of positive area has a positive anchor, and positives match real boxes.
        for (int64_t g = 0; g < real.size(0); ++g) {
            const at::Tensor box = boxes_[b][real[g]];
            const bool has_area = ((box[2] - box[0]) * (box[3] - box[1])).item<float>() > 0;
            const bool covered = (label == 1)
                                     .logical_and(iou[g] == best_of_box[g])
                                     .logical_and(iou[g] > 0)
                                     .any()
                                     .item<bool>();
            EXPECT_EQ(covered, has_area) << "image " << b << " box " << g;
        }
        EXPECT_TRUE(torch::all(match.classes[b].masked_select(label == 1) >= 0).item<bool>());
    }
}

TEST_F(RpnTest, ImagesWithoutBoxesHaveOnlyNegatives) {
    const MatchResult match =
        MatchAnchors(grid_.boxes, torch::zeros({1, 2, 4}), torch::full({1, 2}, -1L), 0.7, 0.3);
    EXPECT_TRUE(torch::all(match.labels == 0).item<bool>());
    const MatchResult none = MatchAnchors(
        grid_.boxes, torch::zeros({2, 0, 4}), torch::zeros({2, 0}, torch::kLong), 0.7, 0.3);
    EXPECT_TRUE(torch::all(none.labels == 0).item<bool>());
}

TEST_F(RpnTest, SamplingKeepsTheQuotasAndOnlyLabelledAnchors) {
    at::Tensor labels = torch::randint(-1, 2, {3, 1000}, torch::kLong);
    labels[2] = torch::where(labels[2] == 1, torch::full({}, 0L), labels[2]);  // no positives
    labels[1].narrow(0, 0, 990).fill_(1);  // positives galore, few negatives
    const at::Tensor sampled = SampleBalanced(labels, 256, 0.5);
    for (int64_t b = 0; b < 3; ++b) {
        const int64_t positives = (sampled[b] == 1).sum().item<int64_t>();
        const int64_t negatives = (sampled[b] == 0).sum().item<int64_t>();
        EXPECT_LE(positives, 128);
        EXPECT_LE(positives + negatives, 256);
        EXPECT_TRUE(
            torch::all((sampled[b] == -1).logical_or(sampled[b] == labels[b])).item<bool>());
        const int64_t available_negatives = (labels[b] == 0).sum().item<int64_t>();
        EXPECT_EQ(negatives, std::min<int64_t>(available_negatives, 256 - positives));
    }
    EXPECT_EQ((sampled[0] == 1).sum().item<int64_t>(), 128);
    EXPECT_EQ((sampled[2] == 0).sum().item<int64_t>(), 256);
}

TEST_F(RpnTest, LossIsBinaryCrossEntropyAndSmoothL1OverTheSample) {
    const MatchResult match = MatchAnchors(grid_.boxes, boxes_, labels_, 0.7, 0.3);
    const at::Tensor sampled = SampleBalanced(match.labels, 64, 0.5);
    const int64_t a = grid_.boxes.size(0);
    const at::Tensor objectness = torch::randn({2, a});
    const at::Tensor deltas = torch::randn({2, a, 4}) * 0.1;
    const BoxCoder coder;
    const auto [cls, reg] = RpnLoss(objectness, deltas, grid_.boxes, sampled, match.boxes, coder);
    double expected_cls = 0.0, expected_reg = 0.0;
    int64_t count = 0;
    for (int64_t b = 0; b < 2; ++b) {
        for (int64_t k = 0; k < a; ++k) {
            const int64_t label = sampled[b][k].item<int64_t>();
            if (label < 0) {
                continue;
            }
            ++count;
            const double p = torch::sigmoid(objectness[b][k]).item<double>();
            expected_cls -= label == 1 ? std::log(p) : std::log(1 - p);
            if (label == 1) {
                const at::Tensor target = coder.Encode(grid_.boxes[k], match.boxes[b][k]);
                const at::Tensor d = (deltas[b][k] - target).abs();
                const double beta = 1.0 / 9.0;
                for (int j = 0; j < 4; ++j) {
                    const double x = d[j].item<double>();
                    expected_reg += x < beta ? 0.5 * x * x / beta : x - 0.5 * beta;
                }
            }
        }
    }
    EXPECT_NEAR(cls.item<double>(), expected_cls / count, 1e-4);
    EXPECT_NEAR(reg.item<double>(), expected_reg / count, 1e-4);
}

TEST_F(RpnTest, ProposalsStayInTheImageWithinTheCapAndSortedByScore) {
    const int64_t a = grid_.boxes.size(0);
    const at::Tensor objectness = torch::randn({2, a});
    const at::Tensor deltas = torch::randn({2, a, 4}) * 0.2;
    const std::vector<std::array<int64_t, 2>> sizes = {{96, 128}, {80, 100}};
    const auto proposals =
        SelectProposals(objectness, deltas, grid_, sizes, 100, 60, 0.7, 1e-3, BoxCoder());
    ASSERT_EQ(proposals.size(), 2u);
    for (int64_t b = 0; b < 2; ++b) {
        const at::Tensor p = proposals[b];
        EXPECT_GT(p.size(0), 0);
        EXPECT_LE(p.size(0), 60);
        EXPECT_GE(p.min().item<float>(), 0.0f);
        EXPECT_LE(p.select(1, 2).max().item<float>(), static_cast<float>(sizes[b][1]));
        EXPECT_LE(p.select(1, 3).max().item<float>(), static_cast<float>(sizes[b][0]));
    }
}

TEST_F(RpnTest, ProposalNmsRemovesOverlapsWithinALevel) {
    // Identical deltas everywhere and one level: the anchors at neighbouring cells overlap
    // heavily, so NMS at IoU 0.7 must leave no pair above it.
    const AnchorGrid grid = MakeAnchors({{12, 16}}, {8}, {32}, {1.0}, torch::kCPU);
    const at::Tensor objectness = torch::randn({1, grid.boxes.size(0)});
    const auto proposals = SelectProposals(objectness,
                                           torch::zeros({1, grid.boxes.size(0), 4}),
                                           grid,
                                           {{96, 128}},
                                           1000,
                                           1000,
                                           0.7,
                                           1e-3,
                                           BoxCoder());
    const at::Tensor iou = BoxIou(proposals[0], proposals[0]);
    const at::Tensor off_diagonal = iou - torch::eye(iou.size(0));
    EXPECT_LE(off_diagonal.max().item<float>(), 0.7f);
}

}  // namespace
}  // namespace autoloss::detect
