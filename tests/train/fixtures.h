#pragma once

// Fixtures of the detector training tests: the repository's own copy of BCCD (so tests run on
// a fresh clone), images picked from it, a narrow model config, output folders and a kill hook.

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/source.h"
#include "train/config.h"
#include "train/trainer.h"

namespace autoloss::train {

// The BCCD folder inside the project.
inline const std::string kBccd = std::string(AUTOLOSS_SOURCE_DIR) + "/data/bccd";

// The images of BCCD's `split` whose file stems are `stems`, in that order.
inline data::Dataset BccdImages(const std::string& split, const std::vector<std::string>& stems) {
    const data::Dataset all = data::ReadSplit({data::Format::kVoc, kBccd, {}}, split);
    return data::Subset(all, data::FindImages(all, stems));
}

// Four training images the detector tests overfit and resume on.
inline data::Dataset FourBccdTrainingImages() {
    return BccdImages(
        "train", {"BloodImage_00001", "BloodImage_00003", "BloodImage_00004", "BloodImage_00005"});
}

// A narrow model on small images (0.25-width ResNet-18, 32-channel FPN, short side 192), fp32
// and NCHW on 2 threads, 4 iterations without warm-up or flips: the settings every detector's
// training tests share; each sets its detector, losses and learning rate over it.
inline TrainConfig TinyTrainConfig() {
    TrainConfig config;
    config.data_root = kBccd;
    config.backbone_width = 0.25;
    config.fpn_channels = 32;
    config.min_size = 192;
    config.batch_size = 2;
    config.iterations = 4;
    config.warmup_iterations = 0;
    config.precision = "fp32";
    config.channels_last = false;
    config.threads = 2;
    config.hflip = false;
    return config;
}

// An empty folder autoloss_<name> under the system's temporary folder.
inline std::string EmptyTempDir(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() / ("autoloss_" + name);
    std::filesystem::remove_all(dir);
    return dir.string();
}

// Hooks that "kill" a run by throwing std::runtime_error when it logs `iteration`.
inline TrainHooks KillAtIteration(int iteration) {
    TrainHooks hooks;
    hooks.log = [prefix = "iteration=" + std::to_string(iteration) + " "](const std::string& line) {
        if (line.rfind(prefix, 0) == 0) {
            throw std::runtime_error("killed");
        }
    };
    return hooks;
}

}  // namespace autoloss::train
