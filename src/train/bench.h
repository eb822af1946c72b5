#pragma once

#include <string>

namespace autoloss::train {

// Training and inference speed of a detector on synthetic images (`autoloss bench train`).
struct BenchOptions {
    std::string detector = "fcos";
    int backbone_depth = 18;
    double backbone_width = 1.0;
    int fpn_channels = 256;
    int tower_convs = 4;
    int size = 320;        // square images of size x size pixels
    int batch = 2;
    int iterations = 10;   // timed iterations, after `warmup` untimed ones
    int warmup = 2;
    int threads = 0;       // 0: all cores
    std::string precision = "auto";  // bf16, fp32 or auto (see TrainConfig::precision)
    bool channels_last = true;
    int seed = 0;
    // Non-empty: the timed training iterations also write a Chrome trace of every libtorch op
    // (forward and backward) to this file, for chrome://tracing or Perfetto; the profiler's
    // own cost makes that run's speed figures pessimistic.
    std::string profile_path;
};

struct BenchResult {
    double train_images_per_second = 0.0;
    double infer_images_per_second = 0.0;
    double train_seconds_per_iteration = 0.0;
    double peak_memory_gib = 0.0;
    int threads = 0;
};

// Times `iterations` SGD steps (forward, loss, backward, update) and as many inference batches
// on random images with a few random boxes each. Throws InputError for bad options.
BenchResult BenchTrain(const BenchOptions& options);

}  // namespace autoloss::train
