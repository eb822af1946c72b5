#pragma once

#include <string>
#include <vector>

#include "data/source.h"

namespace autoloss::train {

// Everything one training run needs; the YAML keys are the field names. Defaults are the BCCD
// preset's (torchvision's FCOS reference settings, issue #5).
struct TrainConfig {
    // Model.
    std::string detector = "fcos";
    int backbone_depth = 18;        // 18 or 50
    double backbone_width = 1.0;    // channel multiplier
    int fpn_channels = 256;
    int tower_convs = 4;            // conv layers per FCOS head tower
    double fcos_initial_scale = 1.0;  // FCOS: start of the per-level distance multipliers
    bool fcos_learn_scales = true;    // FCOS: train those multipliers (false: torchvision's)
    int roi_batch_per_image = 512;  // Faster R-CNN: RoIs sampled per image for the box head
    int roi_head_width = 1024;      // Faster R-CNN: width of the two fully connected layers
    double anchor_size = 32.0;      // Faster R-CNN: anchor side on P3, doubling per level
    std::string cls_loss = "fl";    // a known loss name or formula text (cls-binary set)
    std::string reg_loss = "giou";  // a known loss name or formula text (reg set)
    // Data: a folder in one of data::Format's layouts, splits found in it by name.
    std::string data_format = "voc";      // voc, coco or yolo
    std::string data_root = "data/bccd";  // the repository's copy of BCCD
    std::string train_split = "train";
    std::string val_split = "val";
    std::vector<std::string> classes;  // VOC label order; empty: sorted names found
    int min_size = 320;                // short side after resizing
    int max_size = 1333;
    bool hflip = true;
    // Optimisation.
    int iterations = 300;
    int batch_size = 4;
    double lr = 0.01;
    double momentum = 0.9;
    double weight_decay = 1e-4;
    int warmup_iterations = 100;
    double warmup_factor = 0.001;  // the learning rate starts at lr · warmup_factor
    std::string schedule = "constant";  // constant, step (milestones, gamma) or cosine
    std::vector<int> milestones;
    double gamma = 0.1;
    double clip_grad_norm = 0.0;   // 0 disables clipping
    double divergence_factor = 1e3;  // a loss above this times the early mean is divergence
    int seed = 0;
    int threads = 0;                   // 0: all cores
    // bf16 (CPU autocast), fp32, or auto: bf16 where the CPU has native bf16 (AMX or
    // AVX512-BF16), else fp32; without them libtorch's bf16 convolutions are many times slower.
    std::string precision = "auto";
    std::string device = "cpu";  // cpu or cuda (fp32; RoIAlign still runs on the CPU)
    bool channels_last = true;
    // Evaluation and output.
    std::vector<int> eval_at;          // iterations to evaluate at; the last is always added
    int eval_batch_size = 4;
    int checkpoint_every = 100;        // 0: no checkpoints
    int log_every = 10;
    std::string out_dir;               // empty: no files written
};

// Reads a YAML config; unknown keys and mistyped values are InputErrors naming the key.
TrainConfig LoadTrainConfig(const std::string& path);

// Applies "key=value" (value in YAML syntax, e.g. lr=0.02 or milestones=[200,250]).
void ApplyOverride(TrainConfig& config, const std::string& assignment);

// Throws InputError when a value is out of range (iterations < 1, unknown schedule, ...).
void ValidateTrainConfig(const TrainConfig& config);

// Where config's data lives (format, root, class list). Throws InputError for an unknown format.
data::DataSource DataSourceOf(const TrainConfig& config);

// The precision `config` resolves to on this CPU: "bf16" or "fp32".
std::string ResolvedPrecision(const TrainConfig& config);

// The config as YAML text that LoadTrainConfig reads back to the same values.
std::string ToYaml(const TrainConfig& config);

}  // namespace autoloss::train
