#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "pipeline/job_config.h"
#include "search/costly.h"
#include "data/dataset.h"
#include "train/batch.h"
#include "train/trainer.h"

namespace autoloss::pipeline {

// The data one search trains on, loaded once and shared by every run: the training split, the
// proxy task's train and val sets, D_verify, and the held-out test split of the final check.
struct SearchData {
    data::Dataset train;        // the whole training split: the final check trains on it
    data::Dataset proxy_train;  // `train`, less the val images drawn from it (val_fraction)
    data::Dataset val;          // the proxy task's score
    data::Dataset verify;  // one image per category of proxy_train (SelectVerificationImages)
    data::Dataset test;
    // Decoded images, shared by every run of the search.
    train::ImageCache cache;
};

// Loads the splits `config` names; throws InputError for a missing or malformed data set.
SearchData LoadSearchData(const JobConfig& config);

// A training run's config with `formula` (prefix text) as the searched branch's loss and the
// default on the other branch.
train::TrainConfig WithLoss(train::TrainConfig config, Branch branch, const std::string& formula);

// The costly stages of Algorithm 1 as real detector training (SPEC.md §3 2c, 2d): simulation
// trains on D_verify and scores AP on D_verify; the proxy task trains on the train split and
// scores AP on the val split. A diverging or failing run is a failure code, never an exception;
// each run starts from the same seed, so a formula always gets the same score.
class DetectorStages : public search::CostlyStages {
  public:
    // `log` receives key=value lines (optional). `data` must outlive the stages.
    DetectorStages(const JobConfig& config,
                   SearchData& data,
                   std::function<void(const std::string&)> log = {});

    search::CostlyResult Simulate(const expr::Formula& formula) override;
    search::CostlyResult Proxy(const expr::Formula& formula) override;

    // Seconds spent in each stage so far ("simulate", "proxy").
    const std::map<std::string, double>& seconds() const { return seconds_; }

  private:
    search::CostlyResult Run(const std::string& stage,
                             const train::TrainConfig& base,
                             const expr::Formula& formula,
                             const data::Dataset& train_set,
                             const data::Dataset& eval_set);

    const JobConfig& config_;
    SearchData& data_;
    std::function<void(const std::string&)> log_;
    std::map<std::string, double> seconds_;
};

}  // namespace autoloss::pipeline
