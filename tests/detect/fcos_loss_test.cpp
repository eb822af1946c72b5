#include <gtest/gtest.h>
#include <torch/torch.h>

#include "detect/box_ops.h"
#include "detect/fcos.h"
#include "detect/fcos_targets.h"
#include "expr/known_losses.h"
#include "expr/parse.h"

namespace autoloss::detect {
namespace {

// Random head outputs on a real target assignment, shared by the loss tests.
class FcosLossTest : public ::testing::Test {
  protected:
    void SetUp() override {
        torch::manual_seed(5);
        std::vector<std::array<int64_t, 2>> sizes;
        for (const int64_t s : FcosStrides()) {
            sizes.push_back({(192 + s - 1) / s, (256 + s - 1) / s});
        }
        grid_ = MakePointGrid(sizes, FcosStrides(), torch::kCPU);
        const at::Tensor xy = torch::rand({2, 5, 2}) * torch::tensor({200.0f, 150.0f});
        const at::Tensor wh = torch::rand({2, 5, 2}) * 120 + 8;
        targets_ = AssignFcosTargets(
            grid_, torch::cat({xy, xy + wh}, 2), torch::randint(0, 3, {2, 5}, torch::kLong), 1.5);
        const int64_t p = grid_.points.size(0);
        outputs_.logits = (torch::randn({2, p, 3}) * 2).requires_grad_();
        outputs_.ltrb = (torch::rand({2, p, 4}) * 4 + 0.1).requires_grad_();
        outputs_.quality = torch::randn({2, p}).requires_grad_();
    }

    PointGrid grid_;
    FcosTargets targets_;
    FcosOutputs outputs_;
};

TEST_F(FcosLossTest, FocalLossFormulaEqualsHandWrittenFocalLoss) {
    const LossTerms terms = FcosLoss(
        grid_, targets_, outputs_, expr::ResolveFormula("fl"), expr::ResolveFormula("giou"));
    const at::Tensor labels = targets_.labels.reshape(-1);
    const double num_pos = (labels >= 0).sum().item<double>();
    ASSERT_GT(num_pos, 10);
    // torchvision's sigmoid_focal_loss (alpha 0.25, gamma 2), summed over pairs / positives.
    const at::Tensor x = outputs_.logits.reshape({-1, 3});
    const at::Tensor y = torch::one_hot(labels.clamp_min(0), 3).to(torch::kFloat) *
                         (labels >= 0).unsqueeze(1).to(torch::kFloat);
    const at::Tensor p = x.sigmoid();
    const at::Tensor ce =
        torch::binary_cross_entropy_with_logits(x, y, {}, {}, at::Reduction::None);
    const at::Tensor p_t = p * y + (1 - p) * (1 - y);
    const at::Tensor alpha_t = 0.25 * y + 0.75 * (1 - y);
    const at::Tensor expected = (alpha_t * ce * (1 - p_t).pow(2)).sum() / num_pos;
    EXPECT_NEAR(terms.terms.at("cls").item<double>(),
                expected.item<double>(),
                1e-5 * expected.item<double>());

    const at::Tensor grad = torch::autograd::grad({terms.terms.at("cls")}, {outputs_.logits})[0];
    const at::Tensor expected_grad = torch::autograd::grad({expected}, {outputs_.logits})[0];
    EXPECT_TRUE(torch::allclose(grad, expected_grad, 1e-4, 1e-7));
}

TEST_F(FcosLossTest, GiouFormulaEqualsHandWrittenGiouLoss) {
    const LossTerms terms = FcosLoss(
        grid_, targets_, outputs_, expr::ResolveFormula("fl"), expr::ResolveFormula("giou"));
    // torchvision's generalized_box_iou_loss on decoded pixel boxes, summed / positives.
    const at::Tensor labels = targets_.labels.reshape(-1);
    const at::Tensor pos = (labels >= 0).nonzero().squeeze(1);
    const at::Tensor points = grid_.points.repeat({2, 1}).index_select(0, pos);
    const at::Tensor strides = grid_.strides.repeat({2}).index_select(0, pos);
    const at::Tensor pred =
        DecodeLtrb(points, outputs_.ltrb.reshape({-1, 4}).index_select(0, pos), strides);
    const at::Tensor gt = targets_.boxes.reshape({-1, 4}).index_select(0, pos);
    const auto area = [](const at::Tensor& b) {
        return (b.select(1, 2) - b.select(1, 0)) * (b.select(1, 3) - b.select(1, 1));
    };
    const at::Tensor iw = (torch::min(pred.select(1, 2), gt.select(1, 2)) -
                           torch::max(pred.select(1, 0), gt.select(1, 0)))
                              .clamp_min(0);
    const at::Tensor ih = (torch::min(pred.select(1, 3), gt.select(1, 3)) -
                           torch::max(pred.select(1, 1), gt.select(1, 1)))
                              .clamp_min(0);
    const at::Tensor inter = iw * ih;
    const at::Tensor uni = area(pred) + area(gt) - inter;
    const at::Tensor enc = (torch::max(pred.select(1, 2), gt.select(1, 2)) -
                            torch::min(pred.select(1, 0), gt.select(1, 0))) *
                           (torch::max(pred.select(1, 3), gt.select(1, 3)) -
                            torch::min(pred.select(1, 1), gt.select(1, 1)));
    const at::Tensor giou = inter / uni - (enc - uni) / enc;
    const at::Tensor expected = (1 - giou).sum() / pos.size(0);
    EXPECT_NEAR(terms.terms.at("reg").item<double>(), expected.item<double>(), 1e-4);

    const at::Tensor grad = torch::autograd::grad({terms.terms.at("reg")}, {outputs_.ltrb})[0];
    const at::Tensor expected_grad = torch::autograd::grad({expected}, {outputs_.ltrb})[0];
    EXPECT_TRUE(torch::allclose(grad, expected_grad, 1e-3, 1e-6));

    // The quality target is the IoU of the decoded prediction with its box.
    const at::Tensor quality =
        torch::binary_cross_entropy_with_logits(outputs_.quality.reshape(-1).index_select(0, pos),
                                                (inter / uni).detach(),
                                                {},
                                                {},
                                                at::Reduction::Sum) /
        pos.size(0);
    EXPECT_NEAR(terms.terms.at("quality").item<double>(), quality.item<double>(), 1e-4);
}

TEST_F(FcosLossTest, FliUsesTheIouAtThePositiveClass) {
    // With Q = IoU, FLI differs from FL on positives only; both run through the same path.
    const LossTerms fl = FcosLoss(
        grid_, targets_, outputs_, expr::ResolveFormula("fl"), expr::ResolveFormula("giou"));
    const LossTerms fli = FcosLoss(
        grid_, targets_, outputs_, expr::ResolveFormula("fli"), expr::ResolveFormula("giou"));
    EXPECT_LT(fli.terms.at("cls").item<double>(), fl.terms.at("cls").item<double>());
}

TEST_F(FcosLossTest, NoPositivesGivesFiniteZeroBoxLoss) {
    FcosTargets none = targets_;
    none.labels = torch::full_like(targets_.labels, -1);
    const LossTerms terms =
        FcosLoss(grid_, none, outputs_, expr::ResolveFormula("fl"), expr::ResolveFormula("giou"));
    EXPECT_TRUE(std::isfinite(terms.total.item<double>()));
    EXPECT_EQ(terms.terms.at("reg").item<double>(), 0.0);
    terms.total.backward();
    EXPECT_TRUE(outputs_.ltrb.grad().defined());
}

}  // namespace
}  // namespace autoloss::detect
