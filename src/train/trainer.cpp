#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <numeric>
#include <random>
#include <set>
#include <sstream>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "expr/parse.h"
#include "expr/print.h"
#include "train/session.h"
#include "util/error.h"

namespace autoloss::train {

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
    return std::chrono::duration<double>(Clock::now() - since).count();
}

// Learning rate of 0-based iteration `i`: linear warm-up (torchvision's rule, from
// lr·warmup_factor to lr) times the decay schedule.
double LearningRate(const TrainConfig& config, int i) {
    double factor = 1.0;
    if (i < config.warmup_iterations) {
        const double alpha = static_cast<double>(i) / config.warmup_iterations;
        factor = config.warmup_factor * (1.0 - alpha) + alpha;
    }
    if (config.schedule == "step") {
        for (const int milestone : config.milestones) {
            if (i >= milestone) {
                factor *= config.gamma;
            }
        }
    } else if (config.schedule == "cosine") {
        factor *= 0.5 * (1.0 + std::cos(std::numbers::pi * i / config.iterations));
    }
    return config.lr * factor;
}

// The images of 0-based iteration `i`: a fresh seeded permutation every epoch, consumed in
// order, so a restarted run draws exactly the batches the killed one would have.
class Sampler {
  public:
    Sampler(int size, int seed) : size_(size), seed_(seed) {}

    std::vector<int> Batch(int i, int batch_size, std::vector<bool>& flips, bool hflip) {
        std::vector<int> indices;
        flips.clear();
        for (int k = 0; k < batch_size; ++k) {
            const int64_t position = static_cast<int64_t>(i) * batch_size + k;
            const int epoch = static_cast<int>(position / size_);
            if (epoch != epoch_) {
                order_.resize(size_);
                std::iota(order_.begin(), order_.end(), 0);
                std::mt19937_64 rng(static_cast<uint64_t>(seed_) * 1000003u + epoch);
                std::shuffle(order_.begin(), order_.end(), rng);
                epoch_ = epoch;
            }
            indices.push_back(order_[position % size_]);
            std::mt19937_64 coin(static_cast<uint64_t>(seed_) * 7919u + position * 31u + 17u);
            flips.push_back(hflip && (coin() & 1u));
        }
        return indices;
    }

  private:
    int size_;
    int seed_;
    int epoch_ = -1;
    std::vector<int> order_;
};

// Squared L2 norm of all gradients, in float64 so it can tell a huge value from inf.
double GradNorm(const std::vector<at::Tensor>& parameters) {
    double sum = 0.0;
    for (const auto& p : parameters) {
        if (p.grad().defined()) {
            sum += p.grad().to(torch::kDouble).pow(2).sum().item<double>();
        }
    }
    return std::sqrt(sum);
}

void WriteText(const std::filesystem::path& path, const std::string& text) {
    // Write then rename, so a kill mid-write never leaves a truncated file behind.
    const std::filesystem::path tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary);
        out << text;
        if (!out) {
            throw InputError(tmp.string(), "cannot write");
        }
    }
    std::filesystem::rename(tmp, path);
}

nlohmann::json EvalJson(const EvalPoint& e) {
    return {{"iteration", e.iteration},
            {"ap", e.ap},
            {"ap50", e.ap50},
            {"ap75", e.ap75},
            {"seconds", e.seconds},
            {"images_per_second", e.images_per_second},
            {"ap_per_class", e.ap_per_class}};
}

// Everything a restarted run needs beyond the weights and optimiser state.
struct Progress {
    int iteration = 0;
    double reference_loss = 0.0;
    std::vector<EvalPoint> evals;
    std::vector<LossRecord> losses;
};

void SaveCheckpoint(const std::filesystem::path& path,
                    detect::Detector& model,
                    torch::optim::SGD& optimizer,
                    const Progress& progress) {
    torch::serialize::OutputArchive archive;
    model.save(archive);
    torch::serialize::OutputArchive optimizer_archive;
    optimizer.save(optimizer_archive);
    archive.write("optimizer", optimizer_archive);
    nlohmann::json state = {{"iteration", progress.iteration},
                            {"reference_loss", progress.reference_loss}};
    for (const auto& e : progress.evals) {
        state["evals"].push_back(EvalJson(e));
    }
    for (const auto& l : progress.losses) {
        state["losses"].push_back({{"iteration", l.iteration}, {"lr", l.lr}, {"values", l.values}});
    }
    const std::string text = state.dump();
    archive.write("progress", torch::tensor(std::vector<int64_t>(text.begin(), text.end())));
    // libtorch's global generator draws Faster R-CNN's anchor and RoI samples; a resumed run
    // continues its sequence instead of restarting it.
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    {
        std::lock_guard<std::mutex> lock(generator.mutex());
        archive.write("cpu_rng_state", generator.get_state());
    }
    const std::string tmp = path.string() + ".tmp";
    archive.save_to(tmp);
    std::filesystem::rename(tmp, path);
}

Progress LoadCheckpoint(const std::filesystem::path& path,
                        detect::Detector& model,
                        torch::optim::SGD& optimizer) {
    torch::serialize::InputArchive archive;
    // Tensors land on the model's device, so parameters and momentum buffers stay together.
    archive.load_from(path.string(), model.parameters().front().device());
    model.load(archive);
    torch::serialize::InputArchive optimizer_archive;
    archive.read("optimizer", optimizer_archive);
    optimizer.load(optimizer_archive);
    at::Tensor bytes;
    archive.read("progress", bytes);
    std::string text;
    for (int64_t k = 0; k < bytes.size(0); ++k) {
        text.push_back(static_cast<char>(bytes[k].item<int64_t>()));
    }
    const nlohmann::json state = nlohmann::json::parse(text);
    at::Tensor rng_state;
    if (archive.try_read("cpu_rng_state", rng_state)) {
        at::Generator generator = at::detail::getDefaultCPUGenerator();
        std::lock_guard<std::mutex> lock(generator.mutex());
        generator.set_state(rng_state);
    }
    Progress progress;
    progress.iteration = state.at("iteration");
    progress.reference_loss = state.at("reference_loss");
    for (const auto& e : state.value("evals", nlohmann::json::array())) {
        progress.evals.push_back({e.at("iteration"),
                                  e.at("ap"),
                                  e.at("ap50"),
                                  e.at("ap75"),
                                  e.at("seconds"),
                                  e.at("images_per_second"),
                                  e.value("ap_per_class", std::map<std::string, double>{})});
    }
    for (const auto& l : state.value("losses", nlohmann::json::array())) {
        progress.losses.push_back(
            {l.at("iteration"), l.at("lr"), l.at("values").get<std::map<std::string, double>>()});
    }
    return progress;
}

void DrawProgress(int done, int total, double loss, double images_per_second) {
    if (!isatty(fileno(stderr))) {
        return;
    }
    constexpr int kWidth = 30;
    const int filled = total > 0 ? done * kWidth / total : kWidth;
    std::fprintf(stderr,
                 "\r[%-*s] %d/%d loss %.4f %.2f img/s",
                 kWidth,
                 std::string(filled, '#').c_str(),
                 done,
                 total,
                 loss,
                 images_per_second);
    if (done == total) {
        std::fprintf(stderr, "\n");
    }
    std::fflush(stderr);
}

}  // namespace

double PeakMemoryGib() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("VmHWM:", 0) == 0) {
            return std::stod(line.substr(6)) / (1024.0 * 1024.0);
        }
    }
    return 0.0;
}

TrainResult Train(const TrainConfig& config,
                  const data::Dataset& train_set,
                  const data::Dataset& eval_set,
                  ImageCache& cache,
                  const TrainHooks& hooks) {
    ValidateTrainConfig(config);
    if (train_set.images.empty()) {
        throw InputError("training set", "has no images");
    }
    // The model's labels are the training set's; scoring on other categories would be wrong.
    data::RequireSameCategories(train_set, eval_set, "evaluation set " + eval_set.name);
    const auto log = [&](const std::string& line) {
        if (hooks.log) {
            hooks.log(line);
        }
    };
    torch::manual_seed(config.seed);
    auto model = MakeDetector(config, static_cast<int>(train_set.NumClasses()));
    model->train();
    const at::Device device = model->parameters().front().device();
    std::vector<at::Tensor> parameters = model->parameters();
    torch::optim::SGD optimizer(parameters,
                                torch::optim::SGDOptions(config.lr)
                                    .momentum(config.momentum)
                                    .weight_decay(config.weight_decay));

    TrainResult result;
    result.cls_loss = expr::PrintPrefix(expr::ResolveFormula(config.cls_loss, ClsLossSet(config)));
    const auto reg_formula = ResolveRegLoss(config);
    result.reg_loss = reg_formula ? expr::PrintPrefix(*reg_formula) : std::string(kSmoothL1);

    namespace fs = std::filesystem;
    const fs::path out = config.out_dir;
    const fs::path checkpoint = out.empty() ? fs::path() : out / "checkpoint.pt";
    Progress progress;
    if (!out.empty()) {
        fs::create_directories(out);
        WriteText(out / "config.yaml", ToYaml(config));
        if (fs::exists(checkpoint)) {
            progress = LoadCheckpoint(checkpoint, *model, optimizer);
            result.resumed_from = progress.iteration;
            log("event=resume iteration=" + std::to_string(progress.iteration));
        }
    }

    std::set<int> eval_at(config.eval_at.begin(), config.eval_at.end());
    eval_at.insert(config.iterations);
    Sampler sampler(static_cast<int>(train_set.images.size()), config.seed);
    const data::TransformConfig transform = DetectorTransform(config.min_size, config.max_size);
    std::vector<bool> flips;
    double window_seconds = 0.0;
    int window_images = 0;
    // The largest gradient norm since the last log line, before clipping: spikes between log
    // lines are what gradient clipping is tuned against.
    double window_grad_norm_max = 0.0;
    int images_trained = 0;
    std::vector<metrics::CocoDetection> last_detections;
    // The first iterations' mean loss is the yardstick for "exploding".
    constexpr int kReferenceIterations = 10;
    double reference_sum = 0.0;

    for (int i = progress.iteration; i < config.iterations; ++i) {
        const auto step_start = Clock::now();
        const double lr = LearningRate(config, i);
        for (auto& group : optimizer.param_groups()) {
            static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
        }
        const std::vector<int> indices = sampler.Batch(i, config.batch_size, flips, config.hflip);
        const detect::DetectionBatch batch =
            ToDevice(MakeHostBatch(train_set, indices, flips, transform, cache), device);
        optimizer.zero_grad();
        const detect::LossTerms loss = model->Loss(batch);
        const double total = loss.total.item<double>();
        std::string reason;
        if (!std::isfinite(total)) {
            reason = "non-finite loss";
        } else if (progress.reference_loss > 0 &&
                   total > config.divergence_factor * progress.reference_loss) {
            reason = "loss exploded";
        } else {
            loss.total.backward();
            const double norm = GradNorm(parameters);
            window_grad_norm_max = std::max(window_grad_norm_max, norm);
            if (!std::isfinite(norm)) {
                reason = "non-finite gradient";
            } else {
                if (config.clip_grad_norm > 0 && norm > config.clip_grad_norm) {
                    torch::NoGradGuard no_grad;
                    for (auto& p : parameters) {
                        if (p.grad().defined()) {
                            p.grad().mul_(config.clip_grad_norm / norm);
                        }
                    }
                }
                optimizer.step();
            }
        }
        if (!reason.empty()) {
            result.status = "diverged";
            result.diverged_at = i + 1;
            result.divergence_reason = reason;
            log("event=diverged iteration=" + std::to_string(i + 1) + " reason=\"" + reason +
                "\" loss=" + std::to_string(total));
            break;
        }
        if (i < kReferenceIterations && progress.reference_loss == 0.0) {
            reference_sum += total;
            if (i + 1 == kReferenceIterations || i + 1 == config.iterations) {
                progress.reference_loss = reference_sum / (i + 1);
            }
        }
        const double step_seconds = Seconds(step_start);
        result.train_seconds += step_seconds;
        window_seconds += step_seconds;
        window_images += config.batch_size;
        images_trained += config.batch_size;
        progress.iteration = i + 1;

        if ((i + 1) % config.log_every == 0 || i == 0 || i + 1 == config.iterations) {
            LossRecord record{i + 1, lr, {{"total", total}}};
            std::ostringstream line;
            line << "iteration=" << i + 1 << " lr=" << lr << " loss=" << total;
            for (const auto& [name, value] : loss.terms) {
                record.values[name] = value.item<double>();
                line << " " << name << "=" << record.values[name];
            }
            record.values["grad_norm_max"] = window_grad_norm_max;
            line << " grad_norm_max=" << window_grad_norm_max;
            window_grad_norm_max = 0.0;
            const double ips = window_images / std::max(window_seconds, 1e-9);
            line << " images_per_second=" << ips;
            progress.losses.push_back(record);
            log(line.str());
            window_seconds = 0.0;
            window_images = 0;
        }
        if (hooks.progress) {
            DrawProgress(i + 1, config.iterations, total, images_trained / result.train_seconds);
        }
        if (eval_at.count(i + 1)) {
            const auto eval_start = Clock::now();
            last_detections = DetectSet(*model, eval_set, transform, cache, config.eval_batch_size);
            EvalPoint point = Score(eval_set, last_detections);
            point.iteration = i + 1;
            point.seconds = Seconds(eval_start);
            point.images_per_second = eval_set.images.size() / std::max(point.seconds, 1e-9);
            result.eval_seconds += point.seconds;
            progress.evals.push_back(point);
            std::ostringstream line;
            line << "event=eval iteration=" << i + 1 << " ap=" << point.ap << " ap50=" << point.ap50
                 << " ap75=" << point.ap75;
            for (const auto& [name, ap] : point.ap_per_class) {
                std::string key = name;  // one token per field, whatever the category's name
                std::replace(key.begin(), key.end(), ' ', '_');
                line << " ap[" << key << "]=" << ap;
            }
            line << " seconds=" << point.seconds;
            log(line.str());
        }
        if (!checkpoint.empty() && config.checkpoint_every > 0 &&
            ((i + 1) % config.checkpoint_every == 0) && i + 1 < config.iterations) {
            SaveCheckpoint(checkpoint, *model, optimizer, progress);
        }
    }
    if (result.status.empty()) {
        result.status = "finished";
    }
    result.iterations_done = progress.iteration;
    result.evals = progress.evals;
    result.losses = progress.losses;
    if (!result.evals.empty() && result.status == "finished") {
        result.final_ap = result.evals.back().ap;
        result.final_ap50 = result.evals.back().ap50;
    }
    result.train_images_per_second =
        result.train_seconds > 0 ? images_trained / result.train_seconds : 0.0;
    result.peak_memory_gib = PeakMemoryGib();
    if (!out.empty()) {
        WriteText(out / "result.json", ResultJson(result, config));
        if (result.status == "finished") {
            torch::serialize::OutputArchive archive;
            model->save(archive);
            archive.save_to((out / "model.pt").string());
            WriteText(out / "detections.json", metrics::FormatCocoResults(last_detections));
            fs::remove(checkpoint);
        }
    }
    return result;
}

TrainResult Train(const TrainConfig& config, const TrainHooks& hooks) {
    ValidateTrainConfig(config);
    const data::DataSource source = DataSourceOf(config);
    const data::Dataset train_set = data::ReadSplit(source, config.train_split);
    const data::Dataset eval_set = data::ReadSplit(source, config.val_split);
    if (hooks.log) {
        hooks.log("event=data train=" + std::to_string(train_set.NumImages()) +
                  " val=" + std::to_string(eval_set.NumImages()) +
                  " classes=" + std::to_string(train_set.NumClasses()));
        for (const auto& [split, set] :
             {std::pair{config.train_split, &train_set}, {config.val_split, &eval_set}}) {
            if (const std::string repairs = data::RepairLine(*set, split); !repairs.empty()) {
                hooks.log("event=data_repairs " + repairs);
            }
        }
    }
    ImageCache cache;
    return Train(config, train_set, eval_set, cache, hooks);
}

std::string ResultJson(const TrainResult& result, const TrainConfig& config) {
    nlohmann::json json;
    json["status"] = result.status;
    json["iterations_done"] = result.iterations_done;
    json["iterations"] = config.iterations;
    if (result.diverged_at > 0) {
        json["diverged_at"] = result.diverged_at;
        json["divergence_reason"] = result.divergence_reason;
    }
    json["resumed_from"] = result.resumed_from;
    json["losses_used"] = {{"cls", result.cls_loss}, {"reg", result.reg_loss}};
    json["metrics"] = {{"ap", result.final_ap}, {"ap50", result.final_ap50}};
    json["evals"] = nlohmann::json::array();
    for (const auto& e : result.evals) {
        json["evals"].push_back(EvalJson(e));
    }
    json["timings"] = {{"train_seconds", result.train_seconds},
                       {"eval_seconds", result.eval_seconds},
                       {"train_images_per_second", result.train_images_per_second},
                       {"peak_memory_gib", result.peak_memory_gib}};
    json["loss_log"] = nlohmann::json::array();
    for (const auto& l : result.losses) {
        json["loss_log"].push_back(
            {{"iteration", l.iteration}, {"lr", l.lr}, {"values", l.values}});
    }
    json["seed"] = config.seed;
    json["precision"] = ResolvedPrecision(config);
    return json.dump(2) + "\n";
}

}  // namespace autoloss::train
