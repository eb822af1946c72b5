#include <gtest/gtest.h>
#include <torch/torch.h>

#include "detect/box_ops.h"
#include "detect/roi_align.h"
#include "detect/roi_heads.h"
#include "expr/parse.h"

namespace autoloss::detect {
namespace {

// Sampled RoIs of two images: three foreground classes (0..2) and background (3).
class RoiLossTest : public ::testing::Test {
  protected:
    void SetUp() override {
        torch::manual_seed(6);
        coder_.weights = {10, 10, 5, 5};
        samples_.rois = torch::tensor({{0.0f, 10.0f, 10.0f, 50.0f, 60.0f},
                                       {0.0f, 12.0f, 8.0f, 48.0f, 66.0f},
                                       {0.0f, 100.0f, 100.0f, 140.0f, 130.0f},
                                       {1.0f, 5.0f, 5.0f, 25.0f, 45.0f},
                                       {1.0f, 60.0f, 10.0f, 90.0f, 30.0f},
                                       {1.0f, 0.0f, 0.0f, 8.0f, 8.0f}});
        samples_.labels = torch::tensor({0L, 0L, 3L, 2L, 1L, 3L});
        samples_.gt_boxes = torch::tensor({{11.0f, 9.0f, 52.0f, 62.0f},
                                           {11.0f, 9.0f, 52.0f, 62.0f},
                                           {0.0f, 0.0f, 0.0f, 0.0f},
                                           {4.0f, 6.0f, 27.0f, 40.0f},
                                           {58.0f, 12.0f, 93.0f, 33.0f},
                                           {0.0f, 0.0f, 0.0f, 0.0f}});
        logits_ = torch::randn({6, 4}).requires_grad_();
        deltas_ = (torch::randn({6, 3, 4}) * 0.5).requires_grad_();
    }

    // Decoded boxes of the foreground rows for their class, with their targets.
    std::pair<at::Tensor, at::Tensor> ForegroundBoxes() const {
        std::vector<at::Tensor> predicted, targets;
        for (int64_t k = 0; k < 6; ++k) {
            const int64_t label = samples_.labels[k].item<int64_t>();
            if (label < 3) {
                predicted.push_back(
                    coder_.Decode(samples_.rois[k].narrow(0, 1, 4), deltas_[k][label]));
                targets.push_back(samples_.gt_boxes[k]);
            }
        }
        return {torch::stack(predicted), torch::stack(targets)};
    }

    BoxCoder coder_;
    RoiSamples samples_;
    at::Tensor logits_;
    at::Tensor deltas_;
};

// Hand-written GIoU loss of aligned boxes: 1 - IoU + (enclosing - union) / enclosing.
at::Tensor HandGiou(const at::Tensor& p, const at::Tensor& t) {
    const auto area = [](const at::Tensor& b) {
        return (b.select(1, 2) - b.select(1, 0)) * (b.select(1, 3) - b.select(1, 1));
    };
    const at::Tensor iw =
        (torch::min(p.select(1, 2), t.select(1, 2)) - torch::max(p.select(1, 0), t.select(1, 0)))
            .clamp_min(0);
    const at::Tensor ih =
        (torch::min(p.select(1, 3), t.select(1, 3)) - torch::max(p.select(1, 1), t.select(1, 1)))
            .clamp_min(0);
    const at::Tensor inter = iw * ih;
    const at::Tensor uni = area(p) + area(t) - inter;
    const at::Tensor ew =
        torch::max(p.select(1, 2), t.select(1, 2)) - torch::min(p.select(1, 0), t.select(1, 0));
    const at::Tensor eh =
        torch::max(p.select(1, 3), t.select(1, 3)) - torch::min(p.select(1, 1), t.select(1, 1));
    const at::Tensor enclosing = ew * eh;
    return 1 - inter / uni + (enclosing - uni) / enclosing;
}

TEST_F(RoiLossTest, CeAndGiouFormulasEqualHandWrittenLosses) {
    const auto [cls, reg] = RoiHeadLoss(logits_,
                                        deltas_,
                                        samples_,
                                        expr::ResolveFormula("ce"),
                                        expr::ResolveFormula("giou"),
                                        coder_,
                                        10.0);
    (cls + reg).backward();
    const at::Tensor formula_logits_grad = logits_.grad().clone();
    const at::Tensor formula_deltas_grad = deltas_.grad().clone();
    logits_.grad().zero_();
    deltas_.grad().zero_();

    const at::Tensor hand_cls = torch::cross_entropy_loss(logits_, samples_.labels);
    const auto [predicted, targets] = ForegroundBoxes();
    const at::Tensor hand_reg = HandGiou(predicted, targets).sum() * 10.0 / 6.0;
    EXPECT_NEAR(cls.item<float>(), hand_cls.item<float>(), 1e-5);
    EXPECT_NEAR(reg.item<float>(), hand_reg.item<float>(), 1e-4);
    (hand_cls + hand_reg).backward();
    EXPECT_TRUE(torch::allclose(formula_logits_grad, logits_.grad(), 1e-5, 1e-6));
    EXPECT_TRUE(torch::allclose(formula_deltas_grad, deltas_.grad(), 1e-4, 1e-6));
}

TEST_F(RoiLossTest, ZCarriesThePredictedIouOnForegroundRowsAndOneOnBackground) {
    // CEI = -dot(Z·Y, log softmax X): each row's cross-entropy weighted by its Z.
    const auto [cls, reg] = RoiHeadLoss(logits_,
                                        deltas_,
                                        samples_,
                                        expr::ResolveFormula("cei"),
                                        expr::ResolveFormula("giou"),
                                        coder_,
                                        10.0);
    const auto [predicted, targets] = ForegroundBoxes();
    const at::Tensor iou = torch::diag(BoxIou(predicted.detach(), targets));
    const at::Tensor z = torch::ones({6});
    z.index_put_({torch::tensor({0L, 1L, 3L, 4L})}, iou);
    const at::Tensor row_ce =
        -logits_.log_softmax(1).gather(1, samples_.labels.unsqueeze(1)).squeeze(1);
    EXPECT_NEAR(cls.item<float>(), (z * row_ce).mean().item<float>(), 1e-5);
}

TEST_F(RoiLossTest, SmoothL1BaselineUsesTheEncodedTargetsOfTheClass) {
    const auto [cls, reg] = RoiHeadLoss(
        logits_, deltas_, samples_, expr::ResolveFormula("ce"), std::nullopt, coder_, 1.0);
    double expected = 0.0;
    for (int64_t k = 0; k < 6; ++k) {
        const int64_t label = samples_.labels[k].item<int64_t>();
        if (label == 3) {
            continue;
        }
        const at::Tensor target =
            coder_.Encode(samples_.rois[k].narrow(0, 1, 4), samples_.gt_boxes[k]);
        const at::Tensor d = (deltas_[k][label] - target).abs();
        for (int j = 0; j < 4; ++j) {
            const double x = d[j].item<double>();
            expected += x < 1.0 / 9 ? 0.5 * x * x * 9 : x - 0.5 / 9;
        }
    }
    EXPECT_NEAR(reg.item<float>(), expected / 6.0, 1e-4);
}

TEST_F(RoiLossTest, CseAutolossAFormulasGiveFiniteLossesAndGradients) {
    const auto [cls, reg] = RoiHeadLoss(logits_,
                                        deltas_,
                                        samples_,
                                        expr::ResolveFormula("cse-autoloss-a-cls"),
                                        expr::ResolveFormula("cse-autoloss-a-reg"),
                                        coder_,
                                        10.0);
    (cls + reg).backward();
    EXPECT_TRUE(std::isfinite(cls.item<float>()));
    EXPECT_TRUE(std::isfinite(reg.item<float>()));
    EXPECT_TRUE(torch::isfinite(logits_.grad()).all().item<bool>());
    EXPECT_TRUE(torch::isfinite(deltas_.grad()).all().item<bool>());
}

TEST(RoiHeadsTest, LevelsFollowTheFpnRule) {
    const at::Tensor boxes = torch::tensor({{0.0f, 0.0f, 224.0f, 224.0f},
                                            {0.0f, 0.0f, 112.0f, 112.0f},
                                            {0.0f, 0.0f, 448.0f, 448.0f},
                                            {0.0f, 0.0f, 2.0f, 2.0f},
                                            {0.0f, 0.0f, 2000.0f, 2000.0f},
                                            {5.0f, 5.0f, 5.0f, 5.0f}});
    EXPECT_TRUE(
        torch::equal(MapRoisToLevels(boxes, 3, 5), torch::tensor({1L, 0L, 2L, 0L, 2L, 0L})));
}

TEST(RoiHeadsTest, PoolingPicksEachRoisLevel) {
    torch::manual_seed(7);
    const std::vector<at::Tensor> levels = {
        torch::randn({1, 4, 40, 40}), torch::randn({1, 4, 20, 20}), torch::randn({1, 4, 10, 10})};
    const at::Tensor rois = torch::tensor({{0.0f, 0.0f, 0.0f, 300.0f, 300.0f},
                                           {0.0f, 10.0f, 10.0f, 40.0f, 50.0f},
                                           {0.0f, 20.0f, 30.0f, 240.0f, 250.0f}});
    const at::Tensor pooled = PoolRois(levels, {8, 16, 32}, rois, 7, 2);
    const at::Tensor expected_level = MapRoisToLevels(rois.narrow(1, 1, 4), 3, 5);
    for (int64_t k = 0; k < 3; ++k) {
        const int64_t level = expected_level[k].item<int64_t>();
        RoiAlignOptions o;
        o.output_height = o.output_width = 7;
        o.spatial_scale = 1.0 / (8 << level);
        EXPECT_TRUE(
            torch::allclose(pooled[k], RoiAlign(levels[level], rois.narrow(0, k, 1), o)[0]));
    }
}

TEST(RoiHeadsTest, SamplingAddsGroundTruthAndRespectsQuotas) {
    torch::manual_seed(8);
    const at::Tensor gt =
        torch::tensor({{{10.0f, 10.0f, 60.0f, 70.0f}, {80.0f, 20.0f, 120.0f, 50.0f}}});
    const at::Tensor labels = torch::tensor({{2L, 0L}});
    const at::Tensor xy = torch::rand({300, 2}) * 100;
    const at::Tensor proposals = torch::cat({xy, xy + 5 + torch::rand({300, 2}) * 60}, 1);
    RoiHeadOptions options;
    options.batch_per_image = 64;
    const RoiSamples samples = SampleRois({proposals}, gt, labels, 3, options);
    EXPECT_LE(samples.rois.size(0), 64);
    const at::Tensor fg = samples.labels < 3;
    EXPECT_GE(fg.sum().item<int64_t>(), 2);  // the two ground-truth boxes at least
    EXPECT_LE(fg.sum().item<int64_t>(), 16);
    const at::Tensor fg_rows = fg.nonzero().squeeze(1);
    const at::Tensor iou = torch::diag(BoxIou(samples.rois.index_select(0, fg_rows).narrow(1, 1, 4),
                                              samples.gt_boxes.index_select(0, fg_rows)));
    EXPECT_TRUE(torch::all(iou >= 0.5).item<bool>());
    EXPECT_TRUE(torch::all(samples.rois.select(1, 0) == 0).item<bool>());
}

TEST(RoiHeadsTest, PostprocessCapsSortsAndClips) {
    torch::manual_seed(9);
    RoiHeadOptions options;
    options.score_threshold = 0.0;
    options.max_detections = 7;
    const at::Tensor xy = torch::rand({40, 2}) * 50;
    const at::Tensor p = torch::cat({xy, xy + 10 + torch::rand({40, 2}) * 40}, 1);
    BoxCoder coder;
    coder.weights = {10, 10, 5, 5};
    const auto detections = PostprocessRois(torch::randn({80, 4}),
                                            torch::randn({80, 3, 4}),
                                            {p, p},
                                            {{100, 100}, {60, 70}},
                                            coder,
                                            options);
    ASSERT_EQ(detections.size(), 2u);
    for (const auto& d : detections) {
        EXPECT_EQ(d.boxes.size(0), 7);
        EXPECT_TRUE(torch::all(d.scores.slice(0, 1) <= d.scores.slice(0, 0, -1)).item<bool>());
        EXPECT_TRUE(torch::all((d.labels >= 0) & (d.labels < 3)).item<bool>());
    }
    EXPECT_LE(detections[1].boxes.select(1, 2).max().item<float>(), 70.0f);
    EXPECT_LE(detections[1].boxes.select(1, 3).max().item<float>(), 60.0f);
}

}  // namespace
}  // namespace autoloss::detect
