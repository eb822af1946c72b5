// `autoloss train`, `autoloss detect` and `autoloss bench train`: detector training, drawing
// predictions, and training speed.

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "train/bench.h"
#include "train/config.h"
#include "data/source.h"
#include "train/predict.h"
#include "train/trainer.h"
#include "util/error.h"

namespace autoloss::cli {

namespace {

struct TrainOptions {
    std::string config;
    std::string cls_loss;
    std::string reg_loss;
    std::string out;
    std::vector<std::string> overrides;
    int threads = 0;
    bool quiet = false;
};

// The config file with the command line's overrides applied (--set first, then the named
// options, which win).
train::TrainConfig ResolveConfig(const TrainOptions& options) {
    train::TrainConfig config =
        options.config.empty() ? train::TrainConfig{} : train::LoadTrainConfig(options.config);
    for (const auto& assignment : options.overrides) {
        train::ApplyOverride(config, assignment);
    }
    if (!options.cls_loss.empty())
        config.cls_loss = options.cls_loss;
    if (!options.reg_loss.empty())
        config.reg_loss = options.reg_loss;
    if (!options.out.empty())
        config.out_dir = options.out;
    if (options.threads > 0)
        config.threads = options.threads;
    train::ValidateTrainConfig(config);
    return config;
}

void Log(const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
}

void RunTrain(const TrainOptions& options) {
    const train::TrainConfig config = ResolveConfig(options);
    const int threads = train::ConfigureThreads(config.threads);
    train::RequireFastBlas();
    Log("event=start command=train seed=" + std::to_string(config.seed) +
        " threads=" + std::to_string(threads) + " autoloss=0.1.0 " + train::RuntimeVersions());
    // The whole config, one key=value a line, so a log alone reproduces the run.
    std::istringstream yaml(train::ToYaml(config));
    for (std::string line; std::getline(yaml, line);) {
        const std::size_t colon = line.find(": ");
        if (colon != std::string::npos) {
            Log("config." + line.substr(0, colon) + "=" + line.substr(colon + 2));
        }
    }
    train::TrainHooks hooks;
    if (!options.quiet) {
        hooks.log = Log;
        hooks.progress = true;
    }
    const train::TrainResult result = train::Train(config, hooks);
    std::ostringstream line;
    line << "event=done status=" << result.status << " iterations=" << result.iterations_done
         << " ap=" << result.final_ap << " ap50=" << result.final_ap50
         << " train_seconds=" << result.train_seconds
         << " train_images_per_second=" << result.train_images_per_second
         << " peak_memory_gib=" << result.peak_memory_gib;
    if (result.diverged_at > 0) {
        line << " diverged_at=" << result.diverged_at;
    }
    Log(line.str());
}

struct DetectOptions {
    TrainOptions train;
    std::string model;
    std::string out = ".";
    float min_score = 0.3f;
    std::vector<std::string> images;
};

void RunDetect(const DetectOptions& options) {
    const train::TrainConfig config = ResolveConfig(options.train);
    train::ConfigureThreads(config.threads);
    // The class list is the training split's, as the model was trained with it.
    std::vector<std::string> classes = config.classes;
    if (classes.empty()) {
        for (const auto& category :
             data::ReadSplit(train::DataSourceOf(config), config.train_split).categories) {
            classes.push_back(category.name);
        }
    }
    const auto predictions = train::PredictImages(config, classes, options.model, options.images);
    std::filesystem::create_directories(options.out);
    for (std::size_t k = 0; k < options.images.size(); ++k) {
        const std::string png =
            (std::filesystem::path(options.out) /
             (std::filesystem::path(options.images[k]).stem().string() + ".png"))
                .string();
        train::DrawPredictions(options.images[k], predictions[k], classes, options.min_score, png);
        int shown = 0;
        for (const auto& p : predictions[k]) {
            shown += p.score >= options.min_score;
        }
        Log("image=" + options.images[k] + " detections=" + std::to_string(shown) + " png=" + png);
    }
}

struct BenchTrainOptions {
    train::BenchOptions bench;
    std::string backbone = "resnet18";
    bool json = false;
};

void RunBenchTrain(BenchTrainOptions options) {
    if (options.backbone == "resnet18") {
        options.bench.backbone_depth = 18;
    } else if (options.backbone == "resnet50") {
        options.bench.backbone_depth = 50;
    } else {
        throw InputError("--backbone", "'" + options.backbone + "' is not resnet18 or resnet50");
    }
    train::RequireFastBlas();
    const train::BenchResult result = train::BenchTrain(options.bench);
    train::TrainConfig precision_config;
    precision_config.precision = options.bench.precision;
    if (options.json) {
        const nlohmann::json json = {
            {"detector", options.bench.detector},
            {"backbone", options.backbone},
            {"size", options.bench.size},
            {"batch", options.bench.batch},
            {"iterations", options.bench.iterations},
            {"threads", result.threads},
            {"precision", train::ResolvedPrecision(precision_config)},
            {"channels_last", options.bench.channels_last},
            {"train_images_per_second", result.train_images_per_second},
            {"infer_images_per_second", result.infer_images_per_second},
            {"peak_memory_gib", result.peak_memory_gib},
        };
        std::printf("%s\n", json.dump(2).c_str());
        return;
    }
    std::printf(
        "detector=%s backbone=%s size=%d batch=%d threads=%d precision=%s %s\n"
        "train_images_per_second=%.3f infer_images_per_second=%.3f "
        "peak_memory_gib=%.3f\n",
        options.bench.detector.c_str(),
        options.backbone.c_str(),
        options.bench.size,
        options.bench.batch,
        result.threads,
        train::ResolvedPrecision(precision_config).c_str(),
        train::RuntimeVersions().c_str(),
        result.train_images_per_second,
        result.infer_images_per_second,
        result.peak_memory_gib);
}

void AddTrainOptions(CLI::App* command, TrainOptions& options) {
    command->add_option("--config", options.config, "YAML config (configs/*.yaml)");
    command->add_option("--cls-loss",
                        options.cls_loss,
                        "classification loss: a known name (fl, fli, cse-autoloss-b-cls; for "
                        "faster_rcnn ce, cei, cse-autoloss-a-cls) or a formula of that set");
    command->add_option("--reg-loss",
                        options.reg_loss,
                        "regression loss: a known name (giou, iou, cse-autoloss-b-reg) or a "
                        "reg formula; faster_rcnn also takes smooth-l1 (on box deltas)");
    command->add_option("--set", options.overrides, "override a config key: key=value")->take_all();
    command->add_option("--threads", options.threads, "libtorch threads (default: all cores)");
}

}  // namespace

void AddTrainCommands(CLI::App& app) {
    auto train_options = std::make_shared<TrainOptions>();
    CLI::App* train = app.add_subcommand("train", "train a detector with chosen loss formulas");
    AddTrainOptions(train, *train_options);
    train->add_option(
        "--out", train_options->out, "output folder: config, checkpoints, result.json, model.pt");
    train->add_flag("--quiet", train_options->quiet, "no progress lines");
    train->callback([train_options] { RunTrain(*train_options); });

    auto detect_options = std::make_shared<DetectOptions>();
    CLI::App* detect = app.add_subcommand("detect", "draw a trained model's detections as PNG");
    AddTrainOptions(detect, detect_options->train);
    detect->add_option("--model", detect_options->model, "model.pt written by train")->required();
    detect->add_option("--out", detect_options->out, "folder for the PNG files");
    detect->add_option("--min-score", detect_options->min_score, "draw detections from this score");
    detect->add_option("images", detect_options->images, "image files")->required();
    detect->callback([detect_options] { RunDetect(*detect_options); });

    // `bench` may already hold other modules' benchmarks.
    CLI::App* bench = nullptr;
    for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
        if (sub->get_name() == "bench") {
            bench = sub;
        }
    }
    if (bench == nullptr) {
        bench = app.add_subcommand("bench", "speed benchmarks");
        bench->require_subcommand(1);
    }
    auto bench_options = std::make_shared<BenchTrainOptions>();
    CLI::App* bench_train =
        bench->add_subcommand("train", "detector training and inference speed on synthetic images");
    auto& b = bench_options->bench;
    bench_train->add_option("--detector", b.detector, "fcos or faster_rcnn");
    bench_train->add_option("--backbone", bench_options->backbone, "resnet18 or resnet50");
    bench_train->add_option("--width", b.backbone_width, "backbone channel multiplier");
    bench_train->add_option("--fpn-channels", b.fpn_channels, "FPN and head channels");
    bench_train->add_option("--tower-convs", b.tower_convs, "conv layers per head tower");
    bench_train->add_option("--size", b.size, "square image side in pixels");
    bench_train->add_option("--batch", b.batch, "images per step");
    bench_train->add_option("--iters", b.iterations, "timed iterations");
    bench_train->add_option("--warmup", b.warmup, "untimed iterations first");
    bench_train->add_option(
        "--profile", b.profile_path, "also write a Chrome trace of the timed training steps");
    bench_train->add_option("--threads", b.threads, "libtorch threads (default: all cores)");
    bench_train->add_option(
        "--precision", b.precision, "bf16, fp32 or auto (bf16 where the CPU has it natively)");
    bench_train->add_option(
        "--channels-last", b.channels_last, "channels-last layout (true/false)");
    bench_train->add_flag("--json", bench_options->json, "print one JSON object");
    bench_train->callback([bench_options] { RunBenchTrain(*bench_options); });
}

}  // namespace autoloss::cli
