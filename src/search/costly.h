#pragma once

#include <string>

#include "expr/formula.h"

namespace autoloss::search {

// The outcome of one costly evaluation: a score (higher is better, e.g. AP) or why there is
// none. Failures are values: a diverging training run costs the candidate, never the search.
struct CostlyResult {
    bool ok = false;
    double score = 0.0;   // meaningful when ok
    std::string failure;  // when !ok: a short snake_case code, e.g. "diverged", "nan_loss"

    static CostlyResult Score(double score) { return CostlyResult{true, score, {}}; }
    static CostlyResult Failure(std::string code) {
        return CostlyResult{false, 0.0, std::move(code)};
    }
};

// The stages of Algorithm 1 that train networks, implemented by the detector modules. The loop
// calls them only for candidates that passed every cheap stage, one call at a time, at most
// once per equivalence class (a later candidate with the same fingerprint reuses the result,
// also across a resumed run). Implementations may be slow and may fail; they must not throw
// for a bad candidate (return a failure instead), and should be deterministic for a fixed
// formula if resumed searches are to match uninterrupted ones.
class CostlyStages {
  public:
    virtual ~CostlyStages() = default;

    // Model-optimization simulation (SPEC.md §3 2c): train the detector briefly with `formula`
    // as the searched branch's loss on D_verify and return its AP there. The loop compares the
    // score with the previous generation's best loss's score (the threshold) itself.
    virtual CostlyResult Simulate(const expr::Formula& formula) = 0;

    // Proxy task (SPEC.md §3 2d): train on the proxy training set with `formula` and return AP
    // on the proxy validation set. Called for the K best simulated candidates of a generation.
    virtual CostlyResult Proxy(const expr::Formula& formula) = 0;
};

}  // namespace autoloss::search
