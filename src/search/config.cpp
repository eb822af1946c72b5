#include "search/config.h"

#include "expr/known_losses.h"
#include "expr/parse.h"
#include "util/error.h"

namespace autoloss::search {

nlohmann::json IdentityJson(const SearchConfig& config) {
    return {
        {"set", expr::PrimitiveSet::Get(config.set).name()},
        {"population", config.population},
        {"parents", config.parents},
        {"proxy_candidates", config.proxy_candidates},
        {"crossover_probability", config.crossover_probability},
        {"mutation_probability", config.mutation_probability},
        {"seed", config.seed},
        {"initial_loss", config.initial_loss},
        {"initial_mutations", config.initial_mutations},
        {"max_depth", config.limits.max_depth},
        {"max_size", config.limits.max_size},
        {"max_simulations_per_generation", config.max_simulations_per_generation},
        {"threshold_fraction", config.threshold_fraction},
        {"threshold_from_initial_loss", config.threshold_from_initial_loss},
    };
}

void ValidateConfig(const SearchConfig& config) {
    auto require = [](bool ok, const std::string& field, const std::string& message) {
        if (!ok) {
            throw InputError("search configuration: " + field, message);
        }
    };
    require(config.population >= 2, "population", "needs at least 2 candidates");
    require(config.generations >= 0, "generations", "must not be negative");
    require(config.parents >= 1, "parents", "needs at least 1");
    require(config.proxy_candidates >= 1, "proxy_candidates", "needs at least 1");
    require(config.crossover_probability >= 0 && config.crossover_probability <= 1,
            "crossover_probability", "must lie in [0, 1]");
    require(config.mutation_probability >= 0 && config.mutation_probability <= 1,
            "mutation_probability", "must lie in [0, 1]");
    require(config.initial_mutations >= 1, "initial_mutations", "needs at least 1");
    require(config.threads >= 1, "threads", "needs at least 1");
    require(config.max_evaluations >= 0, "max_evaluations", "must not be negative");
    require(config.max_simulations_per_generation >= 0, "max_simulations_per_generation",
            "must not be negative");
    require(config.threshold_fraction >= 0 && config.threshold_fraction <= 10,
            "threshold_fraction", "must lie in [0, 10]");
    require(config.limits.max_depth >= 2 && config.limits.max_depth <= expr::kMaxDepth,
            "max_depth", "must lie in [2, " + std::to_string(expr::kMaxDepth) + "]");
    const expr::Formula initial =
        config.initial_loss.empty() ? expr::InitialLoss(config.set).Parsed()
                                    : expr::ResolveFormula(config.initial_loss, config.set);
    require(initial.size() <= config.limits.max_size && initial.Depth() <= config.limits.max_depth,
            "max_size", "the initial loss does not fit the size and depth limits");
}

}  // namespace autoloss::search
