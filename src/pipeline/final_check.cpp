#include "pipeline/final_check.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>

#include <nlohmann/json.hpp>

namespace autoloss::pipeline {

double FinalRow::Mean(const std::vector<double>& values) const {
    return values.empty() ? 0.0
                          : std::accumulate(values.begin(), values.end(), 0.0) /
                                static_cast<double>(values.size());
}

double FinalRow::Spread(const std::vector<double>& values) const {
    if (values.size() < 2) {
        return 0.0;
    }
    const double mean = Mean(values);
    double squares = 0.0;
    for (double v : values) {
        squares += (v - mean) * (v - mean);
    }
    return std::sqrt(squares / static_cast<double>(values.size() - 1));
}

std::vector<FinalRow> RunFinalCheck(
    const JobConfig& config,
    SearchData& data,
    const std::vector<std::pair<std::string, std::string>>& formulas,
    const FinalRunStore& store,
    const std::function<void(const std::string&)>& log) {
    std::vector<FinalRow> rows;
    for (const auto& [label, formula] : formulas) {
        FinalRow row{label, formula};
        for (int seed : config.final_seeds) {
            const std::string key = "final/" + label + "/" + formula + "/" + std::to_string(seed);
            nlohmann::json run;
            if (const std::string stored = store.load(key); !stored.empty()) {
                run = nlohmann::json::parse(stored);
                log("event=final_reused loss=" + label + " seed=" + std::to_string(seed));
            } else {
                train::TrainConfig train_config =
                    WithLoss(config.final_run, config.branch, formula);
                train_config.seed = seed;
                const auto start = std::chrono::steady_clock::now();
                const train::TrainResult result =
                    train::Train(train_config, data.train, data.test, data.cache);
                const bool finished = result.status == "finished";
                double ap75 = 0.0;
                if (finished && !result.evals.empty()) {
                    ap75 = result.evals.back().ap75;
                }
                run = {{"status", result.status},
                       {"ap", finished ? result.final_ap : 0.0},
                       {"ap50", finished ? result.final_ap50 : 0.0},
                       {"ap75", ap75},
                       {"seconds",
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                            .count()}};
                store.store(key, run.dump());
                log("event=final loss=" + label + " seed=" + std::to_string(seed) +
                    " status=" + result.status + " ap=" + std::to_string(run["ap"].get<double>()));
            }
            row.seeds.push_back(seed);
            row.status.push_back(run["status"].get<std::string>());
            row.ap.push_back(run["ap"].get<double>());
            row.ap50.push_back(run["ap50"].get<double>());
            row.ap75.push_back(run["ap75"].get<double>());
            row.seconds += run["seconds"].get<double>();
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

std::string FormatFinalTable(const std::vector<FinalRow>& rows) {
    std::string table;
    char line[512];
    std::snprintf(line,
                  sizeof(line),
                  "%-11s %-17s %-17s %-17s %s\n",
                  "loss",
                  "AP",
                  "AP50",
                  "AP75",
                  "AP per seed");
    table += line;
    for (const FinalRow& row : rows) {
        std::string per_seed;
        for (std::size_t k = 0; k < row.ap.size(); ++k) {
            char value[64];
            std::snprintf(value,
                          sizeof(value),
                          "%s%d:%.4f%s",
                          k ? " " : "",
                          row.seeds[k],
                          row.ap[k],
                          row.status[k] == "finished" ? "" : "(diverged)");
            per_seed += value;
        }
        std::snprintf(line,
                      sizeof(line),
                      "%-11s %.4f ± %.4f   %.4f ± %.4f   %.4f ± %.4f   %s\n",
                      row.label.c_str(),
                      row.Mean(row.ap),
                      row.Spread(row.ap),
                      row.Mean(row.ap50),
                      row.Spread(row.ap50),
                      row.Mean(row.ap75),
                      row.Spread(row.ap75),
                      per_seed.c_str());
        table += line;
    }
    return table;
}

nlohmann::json FinalJson(const std::vector<FinalRow>& rows) {
    nlohmann::json out = nlohmann::json::array();
    for (const FinalRow& row : rows) {
        out.push_back({{"loss", row.label},
                       {"formula", row.formula},
                       {"seeds", row.seeds},
                       {"status", row.status},
                       {"ap", row.ap},
                       {"ap50", row.ap50},
                       {"ap75", row.ap75},
                       {"ap_mean", row.Mean(row.ap)},
                       {"ap_spread", row.Spread(row.ap)},
                       {"ap50_mean", row.Mean(row.ap50)},
                       {"ap50_spread", row.Spread(row.ap50)},
                       {"ap75_mean", row.Mean(row.ap75)},
                       {"ap75_spread", row.Spread(row.ap75)},
                       {"seconds", row.seconds}});
    }
    return out;
}

}  // namespace autoloss::pipeline
