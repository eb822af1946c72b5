#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "expr/primitive_set.h"
#include "search/variation.h"

namespace autoloss::search {

// Parameters of one search (the paper's Algorithm 1, SPEC.md §3). Those that shape the search
// are stored in the record and must match when it is resumed; threads and budgets may change.
struct SearchConfig {
    expr::SetKind set = expr::SetKind::kClsMulti;
    int population = 100;                // N: candidates per generation
    int generations = 10;                // E (may grow on resume, extending a finished search)
    int parents = 10;                    // P: parents kept for breeding
    int proxy_candidates = 5;            // K: simulated candidates per generation sent to the proxy
    double crossover_probability = 0.5;  // p1: per offspring pair
    double mutation_probability = 0.5;   // p2: per offspring
    std::uint64_t seed = 0;
    // L_I as formula text or a known loss name; empty means the set's initial loss (CEI, FLI,
    // GIoU).
    std::string initial_loss;
    // Generation 0 applies between 1 and this many mutations to L_I per candidate (our choice).
    int initial_mutations = 3;
    VariationLimits limits;
    // Most candidates simulated per generation (0: every survivor of the cheap stages), in
    // candidate order, for when simulation is too slow for all survivors.
    int max_simulations_per_generation = 0;
    // Model-optimization simulation keeps a candidate whose score reaches this fraction of the
    // reference: L_I's own simulation score in generation 0, the previous generation's best
    // loss's afterwards (SPEC.md §3 2c; 1 is the paper's rule, 0 turns the threshold off).
    // Scores are taken to be non-negative, as AP is.
    double threshold_fraction = 1.0;
    // Whether generation 0 is thresholded by L_I's simulation score (the paper's rule, which
    // costs one simulation of L_I); without it, generation 0 keeps every simulated candidate.
    bool threshold_from_initial_loss = true;

    // Not part of the search's identity:
    int threads = 1;                // cheap screening threads (results do not depend on it)
    std::int64_t max_evaluations = 0;  // stop after this many costly results (0: no limit)
    double max_seconds = 0;            // stop after this much wall time (0: no limit); a search
                                       // stopped by time is not reproducible, one stopped by
                                       // evaluations is
};

// The fields that define a search, as JSON (what the record stores and compares on resume).
nlohmann::json IdentityJson(const SearchConfig& config);

// Throws InputError naming the field when `config` is unusable (N < 2, P < 1, K < 1,
// probabilities outside [0, 1], an initial loss not of the set, limits below L_I's size).
void ValidateConfig(const SearchConfig& config);

}  // namespace autoloss::search
