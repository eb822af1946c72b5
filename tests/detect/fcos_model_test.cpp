#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "detect/fcos.h"
#include "expr/parse.h"
#include "util/error.h"

namespace autoloss::detect {
namespace {

// A narrow FCOS so the model tests take a fraction of a second.
Fcos SmallFcos(int depth = 18, double initial_scale = 1.0) {
    FcosOptions options;
    options.initial_scale = initial_scale;
    options.num_classes = 3;
    options.backbone.depth = depth;
    options.backbone.width = 0.25;
    options.fpn_channels = 32;
    options.tower_convs = 2;
    return Fcos(options, expr::ResolveFormula("fl"), expr::ResolveFormula("giou"));
}

DetectionBatch SmallBatch() {
    DetectionBatch batch;
    batch.images = torch::randn({2, 3, 128, 160});
    batch.boxes = torch::tensor({{{10.0f, 10.0f, 60.0f, 50.0f}, {70.0f, 20.0f, 150.0f, 120.0f}},
                                 {{30.0f, 40.0f, 90.0f, 100.0f}, {0.0f, 0.0f, 0.0f, 0.0f}}});
    batch.labels = torch::tensor({{0L, 2L}, {1L, -1L}});
    batch.sizes = {{128, 160}, {120, 150}};
    return batch;
}

TEST(FcosModelTest, OutputsCoverEveryLocationOfEveryLevel) {
    torch::manual_seed(6);
    Fcos model = SmallFcos();
    const auto [outputs, grid] = model->Forward(torch::randn({2, 3, 128, 160}));
    const int64_t p = 16 * 20 + 8 * 10 + 4 * 5 + 2 * 3 + 1 * 2;
    EXPECT_EQ(grid->points.size(0), p);
    EXPECT_EQ(outputs.logits.sizes(), (std::vector<int64_t>{2, p, 3}));
    EXPECT_EQ(outputs.ltrb.sizes(), (std::vector<int64_t>{2, p, 4}));
    EXPECT_EQ(outputs.quality.sizes(), (std::vector<int64_t>{2, p}));
    EXPECT_GE(outputs.ltrb.min().item<float>(), 0.0f);
    // The grid is cached per input size.
    const auto again = model->Forward(torch::randn({2, 3, 128, 160}));
    EXPECT_EQ(again.second, grid);
}

TEST(FcosModelTest, LossBackpropagatesToEveryParameter) {
    torch::manual_seed(7);
    Fcos model = SmallFcos();
    const LossTerms loss = model->Loss(SmallBatch());
    ASSERT_TRUE(std::isfinite(loss.total.item<double>()));
    loss.total.backward();
    for (const auto& item : model->named_parameters()) {
        EXPECT_TRUE(item.value().grad().defined()) << item.key();
    }
}

TEST(FcosModelTest, ChannelsLastComputesTheSameAsContiguous) {
    torch::manual_seed(8);
    Fcos model = SmallFcos();
    model->eval();
    torch::NoGradGuard no_grad;
    const at::Tensor images = torch::randn({1, 3, 96, 128});
    const at::Tensor plain = model->Forward(images).first.logits;
    model->SetPrecision(Precision::kFloat32, true);
    const at::Tensor last = model->Forward(images).first.logits;
    EXPECT_TRUE(torch::allclose(plain, last, 1e-4, 1e-4));
}

TEST(FcosModelTest, Bf16AutocastStaysCloseAndReturnsFloat32) {
    torch::manual_seed(9);
    Fcos model = SmallFcos();
    model->eval();
    torch::NoGradGuard no_grad;
    const at::Tensor images = torch::randn({1, 3, 96, 128});
    const at::Tensor plain = model->Forward(images).first.logits;
    model->SetPrecision(Precision::kBFloat16, true);
    const at::Tensor low = model->Forward(images).first.logits;
    EXPECT_EQ(low.scalar_type(), torch::kFloat);
    EXPECT_LT((plain - low).abs().max().item<float>(), 0.1f);
    EXPECT_FALSE(at::autocast::is_cpu_enabled());
}

TEST(FcosModelTest, DetectRespectsTheCapAndTheImage) {
    torch::manual_seed(10);
    FcosOptions options;
    options.num_classes = 3;
    options.backbone.width = 0.25;
    options.fpn_channels = 32;
    options.tower_convs = 1;
    options.score_threshold = 0.0;
    options.max_detections = 17;
    Fcos model(options, expr::ResolveFormula("fl"), expr::ResolveFormula("giou"));
    model->eval();
    torch::NoGradGuard no_grad;
    const auto detections = model->Detect(torch::randn({2, 3, 128, 160}), {{128, 160}, {100, 90}});
    ASSERT_EQ(detections.size(), 2u);
    for (std::size_t b = 0; b < 2; ++b) {
        EXPECT_EQ(detections[b].boxes.size(0), 17);
        EXPECT_TRUE(
            torch::all(detections[b].scores.slice(0, 1) <= detections[b].scores.slice(0, 0, -1))
                .item<bool>());
    }
    EXPECT_LE(detections[1].boxes.select(1, 2).max().item<float>(), 90.0f);
    EXPECT_LE(detections[1].boxes.select(1, 3).max().item<float>(), 100.0f);
}

TEST(FcosModelTest, RejectsFormulasOfTheWrongSet) {
    FcosOptions options;
    options.num_classes = 3;
    EXPECT_THROW(Fcos(options, expr::ResolveFormula("giou"), expr::ResolveFormula("giou")),
                 InputError);
    EXPECT_THROW(Fcos(options, expr::ResolveFormula("fl"), expr::ResolveFormula("fl")), InputError);
    options.num_classes = 0;
    EXPECT_THROW(Fcos(options, expr::ResolveFormula("fl"), expr::ResolveFormula("giou")),
                 InputError);
}

TEST(FcosModelTest, InitialScaleMultipliesTheDistances) {
    const at::Tensor images = torch::randn({1, 3, 64, 96});
    torch::manual_seed(12);
    Fcos unit = SmallFcos(18, 1.0);
    torch::manual_seed(12);
    Fcos eight = SmallFcos(18, 8.0);
    const at::Tensor ltrb_unit = unit->Forward(images).first.ltrb;
    ASSERT_GT(ltrb_unit.max().item<float>(), 0.0f);
    EXPECT_TRUE(torch::allclose(eight->Forward(images).first.ltrb, ltrb_unit * 8, 1e-5, 1e-6));
    FcosOptions options;
    options.num_classes = 3;
    options.initial_scale = 0.0;
    EXPECT_THROW(Fcos(options, expr::ResolveFormula("fl"), expr::ResolveFormula("giou")),
                 InputError);
}

TEST(FcosModelTest, FixedScalesGetNoGradient) {
    FcosOptions options;
    options.num_classes = 3;
    options.backbone.width = 0.25;
    options.fpn_channels = 32;
    options.tower_convs = 1;
    for (const bool learn : {true, false}) {
        options.learn_scales = learn;
        torch::manual_seed(13);
        Fcos model(options, expr::ResolveFormula("fl"), expr::ResolveFormula("giou"));
        model->Loss(SmallBatch()).total.backward();
        const at::Tensor scales = model->named_parameters()["scales"];
        EXPECT_EQ(scales.grad().defined(), learn);
        if (learn) {
            EXPECT_GT(scales.grad().abs().sum().item<float>(), 0.0f);
        }
    }
}

TEST(FcosModelTest, ResNet50TrunkBuilds) {
    torch::manual_seed(11);
    Fcos model = SmallFcos(50);
    const auto [outputs, grid] = model->Forward(torch::randn({1, 3, 64, 64}));
    EXPECT_EQ(outputs.logits.size(1), grid->points.size(0));
}

}  // namespace
}  // namespace autoloss::detect
