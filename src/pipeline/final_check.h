#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "pipeline/detector_stages.h"
#include "pipeline/job_config.h"

namespace autoloss::pipeline {

// One loss retrained on the full train split with several seeds and scored on the held-out
// test split: the headline comparison of a search, like the paper's Table 1.
struct FinalRow {
    std::string label;    // "discovered" or "default"
    std::string formula;  // prefix form
    std::vector<int> seeds;
    std::vector<double> ap, ap50, ap75;  // per seed, same order; a diverged run scores 0
    std::vector<std::string> status;     // per seed: "finished" or "diverged"
    double seconds = 0;

    double Mean(const std::vector<double>& values) const;
    double Spread(const std::vector<double>& values) const;  // sample standard deviation
};

// Where finished final runs are kept so a resumed search does not repeat them: `load` returns
// the stored JSON of a run key (empty when none), `store` keeps one.
struct FinalRunStore {
    std::function<std::string(const std::string& key)> load;
    std::function<void(const std::string& key, const std::string& json)> store;
};

// Trains each of `formulas` (label, prefix) with every final seed and scores it on the test
// split. Runs found in `store` are reused; each finished run is stored at once.
std::vector<FinalRow> RunFinalCheck(
    const JobConfig& config,
    SearchData& data,
    const std::vector<std::pair<std::string, std::string>>& formulas,
    const FinalRunStore& store,
    const std::function<void(const std::string&)>& log);

// The rows as a table for a terminal: loss, AP mean ± spread, AP50, AP75, per-seed APs.
std::string FormatFinalTable(const std::vector<FinalRow>& rows);

// The rows as JSON (per-seed values, means and spreads).
nlohmann::json FinalJson(const std::vector<FinalRow>& rows);

}  // namespace autoloss::pipeline
