#include "train/bench.h"

#include <chrono>
#include <fstream>
#include <memory>

#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include "train/session.h"
#include "util/error.h"

namespace autoloss::train {

namespace {

detect::DetectionBatch SyntheticBatch(const BenchOptions& options) {
    const int64_t b = options.batch;
    const int64_t s = options.size;
    detect::DetectionBatch batch;
    batch.images = torch::randn({b, 3, s, s});
    // Eight boxes an image, 16 px to half the image a side: objects for every FPN level.
    const at::Tensor xy = torch::rand({b, 8, 2}) * (s / 2.0);
    const at::Tensor wh = torch::rand({b, 8, 2}) * (s / 2.0 - 16) + 16;
    batch.boxes = torch::cat({xy, xy + wh}, 2);
    batch.labels = torch::randint(0, 3, {b, 8}, torch::kLong);
    batch.sizes.assign(b, {s, s});
    return batch;
}

double Since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

BenchResult BenchTrain(const BenchOptions& options) {
    if (options.size < 32 || options.batch < 1 || options.iterations < 1 || options.warmup < 0) {
        throw InputError("bench train", "needs size >= 32, batch >= 1, iters >= 1");
    }
    TrainConfig config;
    config.detector = options.detector;
    // The config's default cls loss (FL) is a one-stage loss; a two-stage head takes CE.
    if (options.detector == "faster_rcnn") {
        config.cls_loss = "ce";
    }
    config.backbone_depth = options.backbone_depth;
    config.backbone_width = options.backbone_width;
    config.fpn_channels = options.fpn_channels;
    config.tower_convs = options.tower_convs;
    config.precision = options.precision;
    config.channels_last = options.channels_last;
    config.threads = options.threads;
    ValidateTrainConfig(config);
    if (!options.profile_path.empty() && !std::ofstream(options.profile_path)) {
        throw InputError("--profile " + options.profile_path, "cannot be written");
    }
    BenchResult result;
    result.threads = ConfigureThreads(options.threads);
    torch::manual_seed(options.seed);
    auto model = MakeDetector(config, 3);
    torch::optim::SGD optimizer(model->parameters(),
                                torch::optim::SGDOptions(0.001).momentum(0.9).weight_decay(1e-4));
    const detect::DetectionBatch batch = SyntheticBatch(options);

    model->train();
    std::chrono::steady_clock::time_point start;
    std::unique_ptr<torch::autograd::profiler::RecordProfile> profile;
    for (int i = 0; i < options.warmup + options.iterations; ++i) {
        if (i == options.warmup) {
            if (!options.profile_path.empty()) {
                profile = std::make_unique<torch::autograd::profiler::RecordProfile>(
                    options.profile_path);
            }
            start = std::chrono::steady_clock::now();
        }
        optimizer.zero_grad();
        model->Loss(batch).total.backward();
        optimizer.step();
    }
    const double train_seconds = Since(start);
    profile.reset();  // writes the trace

    model->eval();
    torch::NoGradGuard no_grad;
    for (int i = 0; i < options.warmup + options.iterations; ++i) {
        if (i == options.warmup) {
            start = std::chrono::steady_clock::now();
        }
        model->Detect(batch.images, batch.sizes);
    }
    const double infer_seconds = Since(start);
    const double images = static_cast<double>(options.iterations) * options.batch;
    result.train_images_per_second = images / train_seconds;
    result.infer_images_per_second = images / infer_seconds;
    result.train_seconds_per_iteration = train_seconds / options.iterations;
    result.peak_memory_gib = PeakMemoryGib();
    return result;
}

}  // namespace autoloss::train
