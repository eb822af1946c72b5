#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "check/fingerprint.h"
#include "expr/formula.h"
#include "search/config.h"
#include "search/costly.h"
#include "search/record.h"

namespace autoloss::search {

// A loss that reached the proxy task.
struct Individual {
    std::int64_t id = -1;  // candidate id in the record; -1 for L_I itself
    expr::Formula formula;
    check::Fingerprint fingerprint = 0;
    std::optional<double> simulation_score;
    std::optional<double> proxy_score;
};

// Counts over every candidate the search handled (replayed ones included).
struct SearchStats {
    std::int64_t candidates = 0;
    std::map<std::string, std::int64_t> rejected;  // "stage/reason" -> count
    std::int64_t passed_cheap = 0;
    std::int64_t duplicates = 0;    // passed, but their class was already evaluated
    std::int64_t simulations = 0;   // Simulate results (fresh + replayed)
    std::int64_t proxies = 0;       // Proxy results (fresh + replayed)
    std::int64_t fresh_evaluations = 0;  // interface calls made by this run
};

// What a search ends with.
struct SearchResult {
    // L_I's simulation result, which sets generation 0's threshold (unset when no generation ran).
    std::optional<CostlyResult> initial_simulation;
    int generations_completed = 0;
    std::string stop_reason;          // "generations", "evaluations" or "seconds"
    std::vector<Individual> parents;  // the final population's top P, best first
    SearchStats stats;
};

// Progress of one finished generation, for logging.
struct GenerationSummary {
    int generation = 0;
    int passed_cheap = 0;
    int simulated = 0;
    int proxied = 0;
    std::optional<double> threshold;
    std::optional<Individual> best;  // best parent after this generation
    double seconds = 0;
};

// The evolutionary loop of Algorithm 1 (SPEC.md §3): generation 0 mutates L_I; each generation
// runs the cheap stages (check::Screener, on `config.threads` threads), sends every new
// equivalence class among the survivors to CostlyStages::Simulate, keeps those at or above the
// threshold (config.threshold_fraction times the simulation score of the previous generation's
// best loss; in generation 0, of L_I, which is simulated once before it),
// sends the K best to CostlyStages::Proxy, and keeps the top P by proxy score among the old
// parents and the new results (our choice: elitist, so a good loss is never lost) as parents
// of the next generation, bred by pair-wise crossover (p1) and mutation (p2).
//
// Every draw comes from a stream seeded by (seed, generation, candidate), so one seed gives the
// same record on any thread count. With a record, every candidate and result is stored as it
// is made; a search started on a record that already holds results replays it, reusing every
// recorded screening and costly result instead of recomputing it, and continues where it
// stopped, ending with the population an uninterrupted run ends with.
class Search {
public:
    // `record` may be null (nothing is stored). Throws InputError for an invalid config or a
    // record made with another configuration.
    Search(SearchConfig config, CostlyStages& stages, Record* record);

    // Called after each finished generation (optional).
    void OnGeneration(std::function<void(const GenerationSummary&)> callback) {
        on_generation_ = std::move(callback);
    }

    // Runs to E generations or a budget.
    SearchResult Run();

private:
    SearchConfig config_;
    CostlyStages& stages_;
    Record* record_;
    std::function<void(const GenerationSummary&)> on_generation_;
};

// Opens (or creates) the record at `path` for `config`: a new search needs an empty record;
// with `resume`, the record must have been made by the same configuration (IdentityJson) and the
// search continues it. Throws InputError otherwise.
std::unique_ptr<Record> OpenRecord(const std::string& path, const SearchConfig& config,
                                   bool resume);

}  // namespace autoloss::search
