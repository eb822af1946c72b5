#include "train/trainer.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include <gtest/gtest.h>

#include "train/fixtures.h"
#include "train/session.h"
#include "util/error.h"

namespace autoloss::train {
namespace {

// A narrow FCOS on small images: enough to learn a few BCCD images in about a minute on 2 cores.
TrainConfig TinyConfig() {
    TrainConfig config = TinyTrainConfig();
    config.tower_convs = 2;
    config.lr = 0.01;
    config.log_every = 1;
    return config;
}

class TrainerTest : public ::testing::Test {
protected:
    void SetUp() override {
        ConfigureThreads(2);
        images_ = FourBccdTrainingImages();
    }

    data::Dataset images_;
    ImageCache cache_;
};

TEST_F(TrainerTest, NanFormulaEndsAsDivergedNotACrash) {
    TrainConfig config = TinyConfig();
    // log of a negative number is NaN on every pair.
    config.cls_loss = "Log(Neg(Sig(X)))";
    const TrainResult result = Train(config, images_, images_, cache_);
    EXPECT_EQ(result.status, "diverged");
    EXPECT_EQ(result.diverged_at, 1);
    EXPECT_EQ(result.divergence_reason, "non-finite loss");
    EXPECT_EQ(result.iterations_done, 0);
}

TEST_F(TrainerTest, ExplodingLossEndsAsDiverged) {
    TrainConfig config = TinyConfig();
    config.iterations = 15;
    config.lr = 1e4;  // guarantees the loss leaves any sane range within a few steps
    const TrainResult result = Train(config, images_, images_, cache_);
    EXPECT_EQ(result.status, "diverged");
    EXPECT_GT(result.diverged_at, 0);
    EXPECT_LE(result.diverged_at, 15);
}

TEST_F(TrainerTest, BadFormulaIsAnInputError) {
    TrainConfig config = TinyConfig();
    config.reg_loss = "Add(I,";
    EXPECT_THROW(Train(config, images_, images_, cache_), InputError);
}

TEST_F(TrainerTest, KilledRunResumesFromItsCheckpoint) {
    TrainConfig config = TinyConfig();
    config.iterations = 4;
    config.checkpoint_every = 2;
    config.out_dir = EmptyTempDir("resume_a");
    // The uninterrupted reference.
    TrainConfig reference_config = config;
    reference_config.out_dir = EmptyTempDir("resume_b");
    const TrainResult reference = Train(reference_config, images_, images_, cache_);
    ASSERT_EQ(reference.status, "finished");

    // A "kill" during iteration 3, after the checkpoint of iteration 2.
    EXPECT_THROW(Train(config, images_, images_, cache_, KillAtIteration(3)), std::runtime_error);
    ASSERT_TRUE(std::filesystem::exists(config.out_dir + "/checkpoint.pt"));
    const TrainResult resumed = Train(config, images_, images_, cache_);
    EXPECT_EQ(resumed.resumed_from, 2);
    EXPECT_EQ(resumed.status, "finished");
    EXPECT_EQ(resumed.iterations_done, 4);
    ASSERT_EQ(resumed.losses.size(), reference.losses.size());
    EXPECT_NEAR(resumed.losses.back().values.at("total"),
                reference.losses.back().values.at("total"),
                1e-3 * reference.losses.back().values.at("total"));
    EXPECT_TRUE(std::filesystem::exists(config.out_dir + "/result.json"));
    EXPECT_TRUE(std::filesystem::exists(config.out_dir + "/model.pt"));
    EXPECT_FALSE(std::filesystem::exists(config.out_dir + "/checkpoint.pt"));
}

TEST_F(TrainerTest, ClippingBoundsTheStepAndTheLogKeepsTheNormBeforeIt) {
    TrainConfig config = TinyConfig();
    config.iterations = 1;
    config.warmup_iterations = 0;
    config.weight_decay = 0;
    config.lr = 0.1;
    config.clip_grad_norm = 1e-3;  // far below any real gradient norm
    config.out_dir = EmptyTempDir("clip");
    // Train() seeds before building its model, so this one starts from the same weights.
    torch::manual_seed(config.seed);
    const auto initial = MakeDetector(config, static_cast<int>(images_.NumClasses()));
    const TrainResult result = Train(config, images_, images_, cache_);
    ASSERT_EQ(result.status, "finished");
    const auto trained = MakeDetector(config, static_cast<int>(images_.NumClasses()));
    torch::serialize::InputArchive archive;
    archive.load_from(config.out_dir + "/model.pt");
    trained->load(archive);
    // SGD's first step is lr times the (clipped) gradient: its length is lr * clip exactly.
    double squared = 0.0;
    const auto before = initial->named_parameters();
    for (const auto& item : trained->named_parameters()) {
        squared += (item.value() - before[item.key()]).pow(2).sum().item<double>();
    }
    EXPECT_NEAR(std::sqrt(squared), 0.1 * 1e-3, 1e-7);
    EXPECT_GT(result.losses.front().values.at("grad_norm_max"), 100 * config.clip_grad_norm);
}

// The bounded overfit test: two BCCD images learnt to a high AP50 on themselves. 160 iterations
// left seeds 0-3 between AP50 0.67 and 1.0; at 240 all four reach AP50 >= 0.999 (AP 0.65-0.90),
// about 25 s on 2 free cores.
TEST_F(TrainerTest, OverfitsAFewBccdImages) {
    const data::Dataset two = data::Subset(images_, {0, 1});  // BloodImage_00001 and _00003
    TrainConfig config = TinyConfig();
    config.min_size = 224;
    config.iterations = 240;
    config.warmup_iterations = 10;
    config.lr = 0.02;
    config.log_every = 20;
    config.eval_batch_size = 2;
    TrainHooks hooks;
    hooks.log = [](const std::string& line) {
        std::printf("%s\n", line.c_str());
        std::fflush(stdout);
    };
    const TrainResult result = Train(config, two, two, cache_, hooks);
    ASSERT_EQ(result.status, "finished");
    EXPECT_GT(result.final_ap50, 0.8) << "AP " << result.final_ap;
}

}  // namespace
}  // namespace autoloss::train
