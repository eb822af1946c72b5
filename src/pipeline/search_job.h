#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pipeline/final_check.h"
#include "pipeline/job_config.h"
#include "search/search.h"

namespace autoloss::pipeline {

struct JobOptions {
    std::string out_dir;  // created when missing
    bool resume = false;  // continue the search recorded in out_dir
    // Receives every key=value log line (they also go to out_dir/log.txt).
    std::function<void(const std::string&)> log;
};

// What a finished `autoloss search` produced.
struct JobOutcome {
    search::SearchResult search;
    std::vector<FinalRow> final_rows;
    nlohmann::json best;  // the contents of best.json
    std::string summary;  // the table printed at the end
};

// Runs a whole search (SPEC.md §3) and its final check, writing into options.out_dir: the
// config as run (config.yaml), the SQLite record (record.sqlite), the log (log.txt), best.json
// (the discovered formula in every form, its scores and lineage), final_check.json and
// summary.txt. A search killed at any point continues with `resume` and loses no finished
// evaluation. Throws InputError for a bad config, data set or output directory.
JobOutcome RunSearchJob(const JobConfig& config, const JobOptions& options);

}  // namespace autoloss::pipeline
