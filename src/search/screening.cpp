#include "search/screening.h"

#include <chrono>
#include <thread>
#include <unordered_set>
#include <vector>

#include "check/screener.h"
#include "search/random.h"

namespace autoloss::search {

namespace {

constexpr std::uint64_t kStreamScreen = 3;

struct Tally {
    ScreeningSummary summary;
    std::int64_t nodes = 0;
    std::unordered_set<check::Fingerprint> fingerprints;
};

}  // namespace

ScreeningSummary ScreenRandom(expr::SetKind set, std::int64_t count, std::uint64_t seed,
                              int threads, const RandomTreeOptions& options) {
    threads = std::max(1, threads);
    std::vector<Tally> tallies(threads);
    auto work = [&](int first) {
        Tally& tally = tallies[first];
        check::Screener screener(set);
        for (std::int64_t i = first; i < count; i += threads) {
            Rng rng(StreamSeed(seed, static_cast<std::uint64_t>(i), 0, kStreamScreen));
            const expr::Formula formula = RandomFormula(set, options, rng);
            tally.nodes += formula.size();
            const check::ScreenResult result = screener.Screen(formula);
            ++tally.summary.reasons[static_cast<int>(result.verdict.reason)];
            if (result.passed()) {
                ++tally.summary.passed;
                tally.fingerprints.insert(result.fingerprint);
            } else {
                ++tally.summary.rejected_at[static_cast<int>(result.stage)];
            }
        }
    };
    const auto start = std::chrono::steady_clock::now();
    if (threads == 1) {
        work(0);
    } else {
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t) {
            pool.emplace_back(work, t);
        }
        for (std::thread& thread : pool) {
            thread.join();
        }
    }
    ScreeningSummary summary;
    summary.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    summary.count = count;
    std::unordered_set<check::Fingerprint> distinct;
    std::int64_t nodes = 0;
    for (const Tally& tally : tallies) {
        summary.passed += tally.summary.passed;
        for (std::size_t k = 0; k < summary.rejected_at.size(); ++k) {
            summary.rejected_at[k] += tally.summary.rejected_at[k];
        }
        for (std::size_t k = 0; k < summary.reasons.size(); ++k) {
            summary.reasons[k] += tally.summary.reasons[k];
        }
        nodes += tally.nodes;
        distinct.insert(tally.fingerprints.begin(), tally.fingerprints.end());
    }
    summary.distinct = static_cast<std::int64_t>(distinct.size());
    summary.mean_size = count > 0 ? static_cast<double>(nodes) / count : 0.0;
    return summary;
}

}  // namespace autoloss::search
