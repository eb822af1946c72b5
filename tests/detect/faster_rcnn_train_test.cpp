#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "detect/faster_rcnn.h"
#include "train/fixtures.h"
#include "train/session.h"
#include "train/trainer.h"
#include "util/error.h"

namespace autoloss::train {
namespace {

// A narrow Faster R-CNN on small images, through the same trainer and config as every
// detector: enough to learn a few BCCD images in about a minute on 2 cores.
TrainConfig TinyFasterRcnn() {
    TrainConfig config = TinyTrainConfig();
    config.detector = "faster_rcnn";
    config.cls_loss = "ce";
    config.reg_loss = "giou";
    config.roi_batch_per_image = 128;
    config.roi_head_width = 256;
    // Platelets are about 10 px at this scale: P3 anchors of 16 px give them real matches.
    config.anchor_size = 16.0;
    config.lr = 0.02;
    config.log_every = 50;
    return config;
}

class FasterRcnnTrainTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ConfigureThreads(2);
        images_ = FourBccdTrainingImages();
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

// Anchor and RoI sampling draw from libtorch's generator, whose state the checkpoint keeps: a
// run killed after its checkpoint resumes to the very losses of an uninterrupted one.
TEST_F(FasterRcnnTrainTest, KilledRunResumesWithTheSameSamples) {
    TrainConfig config = TinyFasterRcnn();
    config.iterations = 4;
    config.checkpoint_every = 2;
    config.log_every = 1;
    TrainConfig reference_config = config;
    reference_config.out_dir = EmptyTempDir("frcnn_reference");
    const TrainResult reference = Train(reference_config, images_, images_, cache_);
    ASSERT_EQ(reference.status, "finished");

    config.out_dir = EmptyTempDir("frcnn_killed");
    EXPECT_THROW(Train(config, images_, images_, cache_, KillAtIteration(3)), std::runtime_error);
    const TrainResult resumed = Train(config, images_, images_, cache_);
    EXPECT_EQ(resumed.resumed_from, 2);
    ASSERT_EQ(resumed.losses.size(), reference.losses.size());
    for (std::size_t k = 0; k < reference.losses.size(); ++k) {
        for (const auto& [name, value] : reference.losses[k].values) {
            EXPECT_NEAR(resumed.losses[k].values.at(name), value, 1e-4 * (1 + std::abs(value)))
                << name << " at iteration " << reference.losses[k].iteration;
        }
    }
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
