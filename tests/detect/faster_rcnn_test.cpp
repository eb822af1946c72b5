#include <cmath>

#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "detect/faster_rcnn.h"
#include "expr/parse.h"
#include "util/error.h"

namespace autoloss::detect {
namespace {

// A narrow Faster R-CNN so a step takes a fraction of a second.
FasterRcnnOptions SmallOptions() {
    FasterRcnnOptions options;
    options.num_classes = 3;
    options.backbone.width = 0.25;
    options.fpn_channels = 32;
    options.roi.representation = 64;
    options.roi.batch_per_image = 64;
    options.rpn.pre_nms_top_n_train = 200;
    options.rpn.post_nms_top_n_train = 200;
    options.rpn.pre_nms_top_n_test = 100;
    options.rpn.post_nms_top_n_test = 50;
    return options;
}

FasterRcnn SmallModel(const std::string& cls = "ce", const std::string& reg = "giou") {
    return FasterRcnn(SmallOptions(),
                      expr::ResolveFormula(cls, expr::SetKind::kClsMulti),
                      expr::ResolveFormula(reg, expr::SetKind::kReg));
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

TEST(FasterRcnnTest, LossHasEveryTermAndBackpropagatesToEveryParameter) {
    torch::manual_seed(10);
    FasterRcnn model = SmallModel();
    const LossTerms loss = model->Loss(SmallBatch());
    for (const char* name : {"rpn_cls", "rpn_reg", "cls", "reg"}) {
        ASSERT_TRUE(loss.terms.count(name)) << name;
        EXPECT_TRUE(std::isfinite(loss.terms.at(name).item<double>())) << name;
    }
    loss.total.backward();
    for (const auto& item : model->named_parameters()) {
        EXPECT_TRUE(item.value().grad().defined()) << item.key();
    }
}

TEST(FasterRcnnTest, FeaturesArePyramidLevelsP3ToP6) {
    torch::manual_seed(11);
    FasterRcnn model = SmallModel();
    const auto levels = model->Features(torch::randn({1, 3, 128, 160}));
    ASSERT_EQ(levels.size(), 4u);
    // Each level halves the previous one, rounding up (160 px: 20, 10, 5, 3 columns).
    const std::vector<int64_t> heights = {16, 8, 4, 2}, widths = {20, 10, 5, 3};
    for (std::size_t k = 0; k < 4; ++k) {
        EXPECT_EQ(levels[k].size(2), heights[k]);
        EXPECT_EQ(levels[k].size(3), widths[k]);
    }
    EXPECT_EQ(&model->Anchors(levels), &model->Anchors(levels));  // cached per size
}

TEST(FasterRcnnTest, DetectRespectsTheCapAndTheImage) {
    torch::manual_seed(12);
    FasterRcnnOptions options = SmallOptions();
    options.roi.score_threshold = 0.0;
    options.roi.max_detections = 13;
    FasterRcnn model(options, expr::ResolveFormula("ce"), expr::ResolveFormula("giou"));
    model->eval();
    torch::NoGradGuard no_grad;
    const auto detections = model->Detect(torch::randn({2, 3, 128, 160}), {{128, 160}, {100, 90}});
    ASSERT_EQ(detections.size(), 2u);
    for (const auto& d : detections) {
        EXPECT_EQ(d.boxes.size(0), 13);
        EXPECT_EQ(d.scores.scalar_type(), torch::kFloat);
    }
    EXPECT_LE(detections[1].boxes.select(1, 2).max().item<float>(), 90.0f);
    EXPECT_LE(detections[1].boxes.select(1, 3).max().item<float>(), 100.0f);
}

TEST(FasterRcnnTest, Bf16ChannelsLastStaysCloseAndLeavesAutocastOff) {
    torch::manual_seed(13);
    FasterRcnn model = SmallModel();
    model->eval();
    torch::NoGradGuard no_grad;
    const at::Tensor images = torch::randn({1, 3, 96, 128});
    const at::Tensor plain = model->Features(images)[0];
    model->SetPrecision(Precision::kBFloat16, true);
    const at::Tensor low = model->Features(images)[0].to(torch::kFloat);
    EXPECT_LT((plain - low).abs().max().item<float>(), 0.1f * plain.abs().max().item<float>());
    const auto detections = model->Detect(images, {{96, 128}});
    EXPECT_EQ(detections[0].boxes.scalar_type(), torch::kFloat);
    EXPECT_FALSE(at::autocast::is_cpu_enabled());
}

TEST(FasterRcnnTest, CseAutolossATrainsWithoutDivergence) {
    torch::manual_seed(14);
    FasterRcnn model = SmallModel("cse-autoloss-a-cls", "cse-autoloss-a-reg");
    torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
    const DetectionBatch batch = SmallBatch();
    double first = 0.0, last = 0.0;
    for (int step = 0; step < 12; ++step) {
        optimizer.zero_grad();
        const LossTerms loss = model->Loss(batch);
        const double value = loss.total.item<double>();
        ASSERT_TRUE(std::isfinite(value)) << "step " << step;
        (step == 0 ? first : last) = value;
        loss.total.backward();
        optimizer.step();
    }
    EXPECT_LT(last, first);
}

TEST(FasterRcnnTest, SmoothL1BaselineTrains) {
    torch::manual_seed(15);
    FasterRcnn model(SmallOptions(), expr::ResolveFormula("ce"), std::nullopt);
    const LossTerms loss = model->Loss(SmallBatch());
    EXPECT_TRUE(std::isfinite(loss.terms.at("reg").item<double>()));
}

TEST(FasterRcnnTest, RejectsFormulasOfTheWrongSetAndBadOptions) {
    FasterRcnnOptions options = SmallOptions();
    EXPECT_THROW(FasterRcnn(options, expr::ResolveFormula("fl"), expr::ResolveFormula("giou")),
                 InputError);
    EXPECT_THROW(FasterRcnn(options, expr::ResolveFormula("ce"), expr::ResolveFormula("ce")),
                 InputError);
    options.rpn.anchor_sizes = {32, 64};
    EXPECT_THROW(FasterRcnn(options, expr::ResolveFormula("ce"), expr::ResolveFormula("giou")),
                 InputError);
    options = SmallOptions();
    options.num_classes = 0;
    EXPECT_THROW(FasterRcnn(options, expr::ResolveFormula("ce"), expr::ResolveFormula("giou")),
                 InputError);
}

}  // namespace
}  // namespace autoloss::detect
