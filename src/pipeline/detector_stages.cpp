#include "pipeline/detector_stages.h"

#include <chrono>
#include <cmath>

#include "data/source.h"
#include "data/split.h"
#include "expr/known_losses.h"
#include "expr/print.h"
#include "util/error.h"

namespace autoloss::pipeline {

SearchData LoadSearchData(const JobConfig& config) {
    // Every run's config carries the job's data section; any of them names the source.
    const data::DataSource source = train::DataSourceOf(config.proxy);
    SearchData data;
    data.train = data::ReadSplit(source, config.train_split);
    if (config.val_fraction > 0.0) {
        const data::SplitIndices split =
            data::SplitTrainVal(data.train, config.val_fraction, config.search.seed);
        data.proxy_train = data::Subset(data.train, split.train);
        data.val = data::Subset(data.train, split.val);
    } else {
        data.proxy_train = data.train;
        data.val = data::ReadSplit(source, config.val_split);
        // A model trained on one split is scored on the others: their labels must agree.
        data::RequireSameCategories(data.train, data.val, "split '" + config.val_split + "'");
    }
    data.test = data::ReadSplit(source, config.test_split);
    data::RequireSameCategories(data.train, data.test, "split '" + config.test_split + "'");
    data.verify = data::Subset(
        data.proxy_train, data::SelectVerificationImages(data.proxy_train, config.search.seed));
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
    return Run("proxy", config_.proxy, formula, data_.proxy_train, data_.val);
}

search::CostlyResult DetectorStages::Run(const std::string& stage,
                                         const train::TrainConfig& base,
                                         const expr::Formula& formula,
                                         const data::Dataset& train_set,
                                         const data::Dataset& eval_set) {
    const auto start = std::chrono::steady_clock::now();
    const train::TrainConfig run = WithLoss(base, config_.branch, expr::PrintPrefix(formula));
    search::CostlyResult result;
    try {
        const train::TrainResult trained = train::Train(run, train_set, eval_set, data_.cache);
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
