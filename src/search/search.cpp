#include "search/search.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <unordered_map>

#include "check/screener.h"
#include "expr/known_losses.h"
#include "expr/parse.h"
#include "expr/print.h"
#include "util/check.h"
#include "util/error.h"

namespace autoloss::search {

namespace {

using Clock = std::chrono::steady_clock;

// Purposes of the random streams, mixed into their seeds.
constexpr std::uint64_t kStreamInitial = 1;
constexpr std::uint64_t kStreamBreed = 2;

// Stage names beyond the cheap ones, as the record writes them.
constexpr const char* kSimulationStage = "simulation";
constexpr const char* kProxyStage = "proxy";

double SecondsSince(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// A newly made candidate before screening.
struct Offspring {
    expr::Formula formula;
    std::int64_t parent_a = -1;
    std::int64_t parent_b = -1;
    std::string origin;
};

// What the search knows about one equivalence class: the candidate whose costly results stand
// for the class, and those results.
struct ClassResults {
    std::int64_t first_id = -1;
    std::optional<CostlyResult> simulation;
    std::optional<CostlyResult> proxy;
};

expr::Formula InitialFormula(const SearchConfig& config) {
    return config.initial_loss.empty() ? expr::InitialLoss(config.set).Parsed()
                                       : expr::ResolveFormula(config.initial_loss, config.set);
}

std::vector<Offspring> InitialPopulation(const SearchConfig& config,
                                         const expr::Formula& initial) {
    std::vector<Offspring> population;
    population.reserve(config.population);
    for (int i = 0; i < config.population; ++i) {
        Rng rng(StreamSeed(config.seed, 0, static_cast<std::uint64_t>(i), kStreamInitial));
        expr::Formula formula = initial;
        std::string origin = "init:";
        const int mutations = rng.Between(1, config.initial_mutations);
        for (int k = 0; k < mutations; ++k) {
            if (auto mutated = MutateAny(formula, config.limits, rng)) {
                formula = std::move(mutated->first);
                origin += (k ? "+" : "") + std::string(MutationName(mutated->second));
            }
        }
        population.push_back(Offspring{std::move(formula), -1, -1, std::move(origin)});
    }
    return population;
}

std::vector<Offspring> Breed(const SearchConfig& config, int generation,
                             const std::vector<Individual>& parents) {
    std::vector<Offspring> population;
    population.reserve(config.population);
    const int count = static_cast<int>(parents.size());
    for (int pair = 0; static_cast<int>(population.size()) < config.population; ++pair) {
        Rng rng(StreamSeed(config.seed, static_cast<std::uint64_t>(generation),
                           static_cast<std::uint64_t>(pair), kStreamBreed));
        const Individual& a = parents[rng.Below(count)];
        const Individual& b = parents[rng.Below(count)];
        const bool crossed = rng.Chance(config.crossover_probability);
        std::array<Offspring, 2> children = {
            Offspring{a.formula, a.id, crossed ? b.id : -1, crossed ? "crossover" : ""},
            Offspring{b.formula, b.id, crossed ? a.id : -1, crossed ? "crossover" : ""}};
        if (crossed) {
            auto [first, second] = Crossover(a.formula, b.formula, config.limits, rng);
            children[0].formula = std::move(first);
            children[1].formula = std::move(second);
        }
        for (Offspring& child : children) {
            if (rng.Chance(config.mutation_probability)) {
                if (auto mutated = MutateAny(child.formula, config.limits, rng)) {
                    child.formula = std::move(mutated->first);
                    child.origin += (crossed ? "+" : "") + std::string("mutation:") +
                                    std::string(MutationName(mutated->second));
                }
            }
            if (child.origin.empty()) {
                child.origin = "copy";
            }
            if (static_cast<int>(population.size()) < config.population) {
                population.push_back(std::move(child));
            }
        }
    }
    return population;
}

// Runs the cheap stages on every candidate, `threads` ways; candidate i goes to thread
// i % threads, and each result lands in its own row, so the rows do not depend on scheduling.
void ScreenAll(expr::SetKind set, int threads, const std::vector<Offspring>& offspring,
               std::vector<CandidateRow>& rows) {
    auto work = [&](int first) {
        check::Screener screener(set);
        for (std::size_t i = first; i < offspring.size(); i += threads) {
            const auto start = Clock::now();
            const check::ScreenResult result = screener.Screen(offspring[i].formula);
            CandidateRow& row = rows[i];
            row.stage = check::StageName(result.stage);
            row.reason = result.passed() ? "" : check::ReasonCode(result.verdict.reason);
            row.fingerprint = result.passed() ? check::FingerprintHex(result.fingerprint) : "";
            row.screen_us = SecondsSince(start) * 1e6;
        }
    };
    if (threads <= 1) {
        work(0);
        return;
    }
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back(work, t);
    }
    for (std::thread& thread : pool) {
        thread.join();
    }
}

// Sorts by proxy score, best first, ties by id; keeps one per fingerprint; at most `count`.
std::vector<Individual> Best(std::vector<Individual> pool, int count) {
    std::stable_sort(pool.begin(), pool.end(), [](const Individual& a, const Individual& b) {
        if (a.proxy_score.value_or(-1e300) != b.proxy_score.value_or(-1e300)) {
            return a.proxy_score.value_or(-1e300) > b.proxy_score.value_or(-1e300);
        }
        return a.id < b.id;
    });
    std::vector<Individual> best;
    for (Individual& individual : pool) {
        if (static_cast<int>(best.size()) == count) {
            break;
        }
        const bool seen = std::any_of(best.begin(), best.end(), [&](const Individual& other) {
            return other.fingerprint == individual.fingerprint;
        });
        if (!seen) {
            best.push_back(std::move(individual));
        }
    }
    return best;
}

void CountRow(const CandidateRow& row, SearchStats& stats) {
    ++stats.candidates;
    if (!row.fingerprint.empty()) {
        ++stats.passed_cheap;
    } else {
        ++stats.rejected[row.stage + "/" + row.reason];
    }
}

}  // namespace

Search::Search(SearchConfig config, CostlyStages& stages, Record* record)
    : config_(std::move(config)), stages_(stages), record_(record) {
    ValidateConfig(config_);
}

SearchResult Search::Run() {
    const auto start = Clock::now();
    const int n = config_.population;
    const expr::Formula initial = InitialFormula(config_);
    SearchResult result;
    SearchStats& stats = result.stats;

    // Before any proxy result exists, L_I is the only parent (so a generation where everything
    // fails still breeds from something).
    check::Screener screener(config_.set);
    check::Fingerprint initial_fingerprint = 0;
    screener.Equivalence(expr::Program(initial), &initial_fingerprint);
    std::vector<Individual> parents = {Individual{-1, initial, initial_fingerprint, {}, {}}};

    std::unordered_map<check::Fingerprint, ClassResults> classes;
    std::optional<double> threshold;
    std::int64_t evaluations = 0;

    // Whether the budget allows one more costly result; sets the stop reason when not.
    auto budget_left = [&]() {
        if (config_.max_evaluations > 0 && evaluations >= config_.max_evaluations) {
            result.stop_reason = "evaluations";
            return false;
        }
        if (config_.max_seconds > 0 && SecondsSince(start) >= config_.max_seconds) {
            result.stop_reason = "seconds";
            return false;
        }
        return true;
    };
    auto finish = [&]() {
        result.parents = parents;
        if (record_ != nullptr) {
            record_->SetMeta("stop_reason", result.stop_reason);
        }
        return result;
    };

    // Generation 0's threshold: L_I's own simulation score, simulated once and kept in the
    // record's meta table so a resumed search does not repeat it.
    if (config_.generations > 0 && config_.threshold_from_initial_loss) {
        std::optional<CostlyResult> reference;
        if (record_ != nullptr) {
            if (const auto stored = record_->Meta("initial_simulation")) {
                const auto json = nlohmann::json::parse(*stored);
                reference = json["ok"].get<bool>()
                                ? CostlyResult::Score(json["score"].get<double>())
                                : CostlyResult::Failure(json["failure"].get<std::string>());
            }
        }
        if (!reference) {
            if (!budget_left()) {
                return finish();
            }
            reference = stages_.Simulate(initial);
            ++stats.fresh_evaluations;
            if (record_ != nullptr) {
                record_->SetMeta("initial_simulation",
                                 nlohmann::json{{"ok", reference->ok},
                                                {"score", reference->score},
                                                {"failure", reference->failure}}
                                     .dump());
            }
        }
        ++evaluations;
        ++stats.simulations;
        result.initial_simulation = *reference;
        if (reference->ok) {
            parents.front().simulation_score = reference->score;
            if (config_.threshold_fraction > 0) {
                threshold = config_.threshold_fraction * reference->score;
            }
        }
    }

    for (int g = 0; g < config_.generations; ++g) {
        const auto generation_start = Clock::now();
        const std::vector<Offspring> offspring =
            g == 0 ? InitialPopulation(config_, initial) : Breed(config_, g, parents);

        // Cheap stages: taken from the record when this generation was screened before.
        std::vector<CandidateRow> rows =
            record_ != nullptr ? record_->LoadCandidates(g) : std::vector<CandidateRow>{};
        if (!rows.empty()) {
            if (static_cast<int>(rows.size()) != n) {
                throw InputError(record_->path(), "generation " + std::to_string(g) +
                                                      " is incomplete in the record");
            }
            for (int i = 0; i < n; ++i) {
                if (rows[i].prefix != expr::PrintPrefix(offspring[i].formula)) {
                    throw InputError(record_->path(),
                                     "candidate " + std::to_string(rows[i].id) +
                                         " differs from this build's search: " + rows[i].prefix);
                }
            }
        } else {
            rows.resize(n);
            for (int i = 0; i < n; ++i) {
                CandidateRow& row = rows[i];
                const Offspring& child = offspring[i];
                row.id = static_cast<std::int64_t>(g) * n + i;
                row.generation = g;
                row.index = i;
                row.prefix = expr::PrintPrefix(child.formula);
                row.infix = expr::PrintInfix(child.formula);
                row.hash = expr::HashHex(child.formula.Hash());
                row.origin = child.origin;
                row.parent_a = child.parent_a;
                row.parent_b = child.parent_b;
            }
            ScreenAll(config_.set, config_.threads, offspring, rows);
            if (record_ != nullptr) {
                record_->InsertCandidates(rows);
            }
        }
        for (const CandidateRow& row : rows) {
            CountRow(row, stats);
        }

        // Model-optimization simulation, once per equivalence class.
        GenerationSummary summary;
        summary.generation = g;
        summary.threshold = threshold;
        std::vector<int> survivors;
        std::vector<check::Fingerprint> fingerprints(n, 0);
        int simulated = 0;
        for (int i = 0; i < n; ++i) {
            CandidateRow& row = rows[i];
            if (row.fingerprint.empty()) {
                continue;
            }
            ++summary.passed_cheap;
            check::ParseFingerprintHex(row.fingerprint, &fingerprints[i]);
            ClassResults& known = classes[fingerprints[i]];
            if (known.first_id >= 0 && known.first_id != row.id) {
                // Its function was seen before: reuse, never re-rank.
                row.duplicate_of = known.first_id;
                row.stage = check::StageName(check::Stage::kEquivalence);
                row.reason = "duplicate";
                if (known.simulation) {
                    row.simulation_score = known.simulation->ok
                                               ? std::optional<double>(known.simulation->score)
                                               : std::nullopt;
                }
                if (known.proxy && known.proxy->ok) {
                    row.proxy_score = known.proxy->score;
                }
                ++stats.duplicates;
                continue;
            }
            known.first_id = row.id;
            if (config_.max_simulations_per_generation > 0 &&
                simulated >= config_.max_simulations_per_generation) {
                row.reason = "simulation_cap";
                continue;
            }
            if (!row.HasSimulation()) {
                if (!budget_left()) {
                    return finish();
                }
                const auto call_start = Clock::now();
                const CostlyResult simulation = stages_.Simulate(offspring[i].formula);
                row.simulation_seconds = SecondsSince(call_start);
                row.stage = kSimulationStage;
                if (simulation.ok) {
                    row.simulation_score = simulation.score;
                } else {
                    row.simulation_failure = simulation.failure.empty() ? "failed"
                                                                        : simulation.failure;
                }
                row.reason = row.simulation_failure;
                ++stats.fresh_evaluations;
                if (record_ != nullptr) {
                    record_->UpdateCandidate(row);
                }
            } else if (!budget_left()) {
                return finish();
            }
            ++evaluations;
            ++stats.simulations;
            ++simulated;
            known.simulation = row.simulation_score
                                   ? CostlyResult::Score(*row.simulation_score)
                                   : CostlyResult::Failure(row.simulation_failure);
            survivors.push_back(i);
        }
        summary.simulated = simulated;

        // The threshold, then the K best to the proxy task.
        std::vector<int> eligible;
        for (int i : survivors) {
            CandidateRow& row = rows[i];
            if (!row.simulation_score) {
                continue;
            }
            if (threshold && *row.simulation_score < *threshold) {
                row.reason = "below_threshold";
                continue;
            }
            eligible.push_back(i);
        }
        std::stable_sort(eligible.begin(), eligible.end(), [&](int a, int b) {
            return *rows[a].simulation_score > *rows[b].simulation_score;
        });
        std::vector<Individual> proxied;
        for (std::size_t k = 0; k < eligible.size(); ++k) {
            const int i = eligible[k];
            CandidateRow& row = rows[i];
            if (static_cast<int>(k) >= config_.proxy_candidates) {
                row.reason = "not_selected";
                continue;
            }
            const bool fresh = !row.HasProxy();
            if (fresh) {
                if (!budget_left()) {
                    return finish();
                }
                const auto call_start = Clock::now();
                const CostlyResult proxy = stages_.Proxy(offspring[i].formula);
                row.proxy_seconds = SecondsSince(call_start);
                if (proxy.ok) {
                    row.proxy_score = proxy.score;
                } else {
                    row.proxy_failure = proxy.failure.empty() ? "failed" : proxy.failure;
                }
                ++stats.fresh_evaluations;
            } else if (!budget_left()) {
                return finish();
            }
            row.stage = kProxyStage;
            row.reason = row.proxy_failure;
            if (record_ != nullptr && fresh) {
                record_->UpdateCandidate(row);
            }
            ++evaluations;
            ++stats.proxies;
            ++summary.proxied;
            ClassResults& known = classes[fingerprints[i]];
            known.proxy = row.proxy_score ? CostlyResult::Score(*row.proxy_score)
                                          : CostlyResult::Failure(row.proxy_failure);
            if (row.proxy_score) {
                proxied.push_back(Individual{row.id, offspring[i].formula, fingerprints[i],
                                             row.simulation_score, row.proxy_score});
            }
        }

        // Selection: the top P of the old parents and the new proxy results.
        GenerationRow generation;
        generation.generation = g;
        generation.threshold = threshold;
        if (!proxied.empty()) {
            const std::vector<Individual> best_new = Best(proxied, 1);
            generation.best_id = best_new.front().id;
            generation.best_score = best_new.front().proxy_score;
            if (config_.threshold_fraction > 0) {
                threshold = config_.threshold_fraction * *best_new.front().simulation_score;
            }
            std::vector<Individual> pool = proxied;
            for (const Individual& parent : parents) {
                if (parent.proxy_score) {
                    pool.push_back(parent);
                }
            }
            parents = Best(std::move(pool), config_.parents);
        }
        for (const Individual& parent : parents) {
            generation.parents.push_back(parent.id);
        }
        generation.seconds = SecondsSince(generation_start);
        if (record_ != nullptr) {
            std::vector<CandidateRow> changed;
            for (const CandidateRow& row : rows) {
                if (!row.fingerprint.empty()) {
                    changed.push_back(row);
                }
            }
            record_->FinishGeneration(changed, generation);
        }
        ++result.generations_completed;
        summary.best = parents.front();
        summary.seconds = generation.seconds;
        if (on_generation_) {
            on_generation_(summary);
        }
    }
    result.stop_reason = "generations";
    return finish();
}

std::unique_ptr<Record> OpenRecord(const std::string& path, const SearchConfig& config,
                                   bool resume) {
    ValidateConfig(config);
    auto record = std::make_unique<Record>(path);
    const std::string identity = IdentityJson(config).dump();
    const std::optional<std::string> stored = record->Meta("config");
    if (!stored) {
        if (!record->Empty()) {
            throw InputError(path, "holds candidates but no configuration");
        }
        record->SetMeta("config", identity);
        return record;
    }
    if (!resume) {
        throw InputError(path,
                         "already holds a search; pass --resume to continue it, or choose another "
                         "file");
    }
    if (*stored != identity) {
        throw InputError(path, "was made by another configuration: " + *stored);
    }
    return record;
}

}  // namespace autoloss::search
