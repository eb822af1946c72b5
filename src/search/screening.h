#pragma once

#include <array>
#include <cstdint>

#include "check/verdict.h"
#include "expr/primitive_set.h"
#include "search/variation.h"

namespace autoloss::search {

// Counts from screening a stream of random formulas through the cheap stages.
struct ScreeningSummary {
    std::int64_t count = 0;
    double seconds = 0;                         // wall time of generation and screening together
    double mean_size = 0;                       // mean node count of the formulas
    std::int64_t passed = 0;                    // passed every cheap stage
    std::int64_t distinct = 0;                  // distinct fingerprints among those that passed
    std::array<std::int64_t, 3> rejected_at{};  // by check::Stage
    std::array<std::int64_t, check::kReasonCount> reasons{};  // by check::Reason (kNone: passed)

    double CandidatesPerSecond() const { return seconds > 0 ? count / seconds : 0.0; }
};

// Draws `count` random formulas of `set` shaped by `options` (formula i from the stream (seed, i),
// so the counts do not depend on `threads`) and screens them with check::Screener on `threads`
// threads.
ScreeningSummary ScreenRandom(expr::SetKind set,
                              std::int64_t count,
                              std::uint64_t seed,
                              int threads,
                              const RandomTreeOptions& options);

}  // namespace autoloss::search
