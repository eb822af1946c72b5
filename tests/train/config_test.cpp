#include "train/config.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "util/error.h"

namespace autoloss::train {
namespace {

std::string WriteTemp(const std::string& name, const std::string& text) {
    const auto path = std::filesystem::temp_directory_path() / name;
    std::ofstream(path) << text;
    return path.string();
}

TEST(TrainConfigTest, ReadsYamlAndOverrides) {
    TrainConfig config = LoadTrainConfig(
        WriteTemp("autoloss_config_a.yaml", "lr: 0.02\nmilestones: [10, 20]\nhflip: false\n"));
    EXPECT_DOUBLE_EQ(config.lr, 0.02);
    EXPECT_EQ(config.milestones, (std::vector<int>{10, 20}));
    EXPECT_FALSE(config.hflip);
    ApplyOverride(config, "iterations=7");
    ApplyOverride(config, "cls_loss=Neg(Log(Sig(X)))");
    ApplyOverride(config, "fcos_learn_scales=false");
    EXPECT_EQ(config.iterations, 7);
    EXPECT_FALSE(config.fcos_learn_scales);
    EXPECT_EQ(config.cls_loss, "Neg(Log(Sig(X)))");
}

TEST(TrainConfigTest, YamlRoundTrips) {
    TrainConfig config;
    config.eval_at = {3, 9};
    config.classes = {"a", "b"};
    config.lr = 0.125;
    config.fcos_learn_scales = false;
    const TrainConfig back = LoadTrainConfig(WriteTemp("autoloss_config_b.yaml", ToYaml(config)));
    EXPECT_EQ(ToYaml(back), ToYaml(config));
}

TEST(TrainConfigTest, RejectsUnknownKeysAndBadValues) {
    EXPECT_THROW(LoadTrainConfig(WriteTemp("autoloss_config_c.yaml", "learning_rate: 1\n")),
                 InputError);
    EXPECT_THROW(LoadTrainConfig(WriteTemp("autoloss_config_d.yaml", "iterations: many\n")),
                 InputError);
    EXPECT_THROW(LoadTrainConfig("/nonexistent/autoloss.yaml"), InputError);
    TrainConfig config;
    EXPECT_THROW(ApplyOverride(config, "lr"), InputError);
    config.schedule = "linear";
    EXPECT_THROW(ValidateTrainConfig(config), InputError);
    config = TrainConfig{};
    config.precision = "fp16";
    EXPECT_THROW(ValidateTrainConfig(config), InputError);
    config = TrainConfig{};
    config.fcos_initial_scale = 0;
    EXPECT_THROW(ValidateTrainConfig(config), InputError);
}

}  // namespace
}  // namespace autoloss::train
