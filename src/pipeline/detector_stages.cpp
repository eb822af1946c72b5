#include "pipeline/detector_stages.h"

#include <chrono>
#include <cmath>
#include <random>
#include <set>

#include "expr/known_losses.h"
#include "expr/print.h"
#include "util/error.h"

namespace autoloss::pipeline {

namespace {

// D_verify (SPEC.md §3 2c): for each category in turn, one training image holding it, drawn
// with `seed` among those not taken yet, so every category is represented by its own image.
train::DetectionSet DrawVerificationSet(const train::DetectionSet& train_set, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::set<std::size_t> taken;
    std::vector<std::string> names;
    for (std::size_t label = 0; label < train_set.classes.size(); ++label) {
        std::vector<std::size_t> holders;
        for (std::size_t k = 0; k < train_set.images.size(); ++k) {
            const auto& labels = train_set.images[k].labels;
            if (!taken.count(k) &&
                std::find(labels.begin(), labels.end(), static_cast<int>(label)) != labels.end()) {
                holders.push_back(k);
            }
        }
        if (holders.empty()) {
            continue;  // every image holding it was taken for an earlier category
        }
        const std::size_t chosen = holders[rng() % holders.size()];
        taken.insert(chosen);
        names.push_back(train_set.images[chosen].name);
    }
    return train_set.Subset(names);
}

}  // namespace

train::ImageCache& SearchData::Cache(const train::TrainConfig& config) {
    auto& cache = caches_[{config.min_size, config.max_size}];
    if (!cache) {
        cache = std::make_unique<train::ImageCache>(config.min_size, config.max_size);
    }
    return *cache;
}

SearchData LoadSearchData(const JobConfig& config) {
    SearchData data;
    data.train = train::ReadVocSplit(config.data_root, config.train_split);
    // Every split uses the training split's class order, so labels mean the same everywhere.
    data.val = train::ReadVocSplit(config.data_root, config.val_split, data.train.classes);
    data.test = train::ReadVocSplit(config.data_root, config.test_split, data.train.classes);
    data.verify = DrawVerificationSet(data.train, config.search.seed);
    return data;
}

train::TrainConfig WithLoss(train::TrainConfig config, Branch branch, const std::string& formula) {
    const bool two_stage = config.detector == "faster_rcnn";
    if (branch == Branch::kCls) {
        config.cls_loss = formula;
        config.reg_loss = std::string(expr::DefaultLoss(expr::SetKind::kReg).name);
    } else {
        config.reg_loss = formula;
        config.cls_loss = std::string(
            expr::DefaultLoss(two_stage ? expr::SetKind::kClsMulti : expr::SetKind::kClsBinary)
                .name);
    }
    return config;
}

DetectorStages::DetectorStages(const JobConfig& config,
                               SearchData& data,
                               std::function<void(const std::string&)> log)
    : config_(config), data_(data), log_(std::move(log)) {}

search::CostlyResult DetectorStages::Simulate(const expr::Formula& formula) {
    return Run("simulate", config_.simulate, formula, data_.verify, data_.verify);
}

search::CostlyResult DetectorStages::Proxy(const expr::Formula& formula) {
    return Run("proxy", config_.proxy, formula, data_.train, data_.val);
}

search::CostlyResult DetectorStages::Run(const std::string& stage,
                                         const train::TrainConfig& base,
                                         const expr::Formula& formula,
                                         const train::DetectionSet& train_set,
                                         const train::DetectionSet& eval_set) {
    const auto start = std::chrono::steady_clock::now();
    const train::TrainConfig run = WithLoss(base, config_.branch, expr::PrintPrefix(formula));
    search::CostlyResult result;
    try {
        const train::TrainResult trained = train::Train(run, train_set, eval_set, data_.Cache(run));
        if (trained.status != "finished") {
            result = search::CostlyResult::Failure(trained.status);
        } else if (!std::isfinite(trained.final_ap)) {
            result = search::CostlyResult::Failure("nan_ap");
        } else {
            result = search::CostlyResult::Score(trained.final_ap);
        }
    } catch (const std::exception& error) {
        // Whatever a candidate's loss makes the trainer throw (a libtorch error on an odd value,
        // say) costs that candidate only, never the search.
        result = search::CostlyResult::Failure("training_error");
        if (log_) {
            log_("event=" + stage + "_error formula=" + expr::PrintPrefix(formula) + " message=\"" +
                 error.what() + "\"");
        }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    seconds_[stage] += seconds;
    if (log_) {
        char line[128];
        std::snprintf(line, sizeof(line), " seconds=%.1f", seconds);
        log_("event=" + stage + " formula=" + expr::PrintPrefix(formula) +
             (result.ok ? " ap=" + std::to_string(result.score) : " failure=" + result.failure) +
             line);
    }
    return result;
}

}  // namespace autoloss::pipeline
