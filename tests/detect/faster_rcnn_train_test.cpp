#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "detect/faster_rcnn.h"
#include "train/session.h"
#include "train/trainer.h"
#include "data/source.h"
#include "util/error.h"

namespace autoloss::train {
namespace {

const std::string kBccd = std::string(AUTOLOSS_SHARED_DIR) + "/data/bccd_voc/BCCD";

// A narrow Faster R-CNN on small images, through the same trainer and config as every
// detector: enough to learn a few BCCD images in about a minute on 2 cores.
TrainConfig TinyFasterRcnn() {
    TrainConfig config;
    config.detector = "faster_rcnn";
    config.cls_loss = "ce";
    config.reg_loss = "giou";
    config.data_root = kBccd;
    config.backbone_width = 0.25;
    config.fpn_channels = 32;
    config.roi_batch_per_image = 128;
    config.roi_head_width = 256;
    // Platelets are about 10 px at this scale: P3 anchors of 16 px give them real matches.
    config.anchor_size = 16.0;
    config.min_size = 192;
    config.batch_size = 2;
    config.iterations = 4;
    config.warmup_iterations = 0;
    config.lr = 0.02;
    config.precision = "fp32";
    config.channels_last = false;
    config.threads = 2;
    config.log_every = 50;
    config.hflip = false;
    return config;
}

class FasterRcnnTrainTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ConfigureThreads(2);
        const data::Dataset all = data::ReadSplit({data::Format::kVoc, kBccd, {}}, "train");
        images_ = data::Subset(all,
                               data::FindImages(all,
                                                {"BloodImage_00001",
                                                 "BloodImage_00003",
                                                 "BloodImage_00004",
                                                 "BloodImage_00005"}));
    }

    data::Dataset images_;
    ImageCache cache_;
};

TEST_F(FasterRcnnTrainTest, ConfigSelectsTheTwoStageSetsAndTheSmoothL1Baseline) {
    TrainConfig config = TinyFasterRcnn();
    EXPECT_EQ(ClsLossSet(config), expr::SetKind::kClsMulti);
    EXPECT_TRUE(ResolveRegLoss(config).has_value());
    config.reg_loss = "smooth-l1";
    EXPECT_FALSE(ResolveRegLoss(config).has_value());
    EXPECT_NE(dynamic_cast<detect::FasterRcnnImpl*>(MakeDetector(config, 3).get()), nullptr);
    config.cls_loss = "fl";  // a one-stage loss
    EXPECT_THROW(MakeDetector(config, 3), InputError);
    config.detector = "fcos";
    config.reg_loss = "smooth-l1";  // a Faster R-CNN baseline only
    EXPECT_THROW(ResolveRegLoss(config), InputError);
}

TEST_F(FasterRcnnTrainTest, CseAutolossATrainsWithoutDiverging) {
    TrainConfig config = TinyFasterRcnn();
    config.cls_loss = "cse-autoloss-a-cls";
    config.reg_loss = "cse-autoloss-a-reg";
    config.iterations = 10;
    const TrainResult result = Train(config, images_, images_, cache_);
    EXPECT_EQ(result.status, "finished");
    EXPECT_EQ(result.cls_loss, "Neg(Dot(Mul(Y,Add(1,Sin(Z))),Log(Softmax(X))))");
}

// The bounded overfit test: four BCCD images learnt to a high AP50 on themselves.
TEST_F(FasterRcnnTrainTest, OverfitsAFewBccdImages) {
    TrainConfig config = TinyFasterRcnn();
    config.iterations = 150;
    config.warmup_iterations = 20;
    config.eval_batch_size = 4;
    const TrainResult result = Train(config, images_, images_, cache_);
    ASSERT_EQ(result.status, "finished");
    EXPECT_GT(result.final_ap50, 0.8) << "AP " << result.final_ap;
}

}  // namespace
}  // namespace autoloss::train
