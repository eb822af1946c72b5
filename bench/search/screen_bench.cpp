// Screening throughput: a stream of random formulas of mean size 8 (the stream the paper's
// stack was measured on) through validity, the convergence properties and the equivalence
// fingerprint, on one thread. How to run it and the figures: docs/benchmarks.md, "Screening".

#include <benchmark/benchmark.h>

#include <vector>

#include "check/screener.h"
#include "search/random.h"
#include "search/variation.h"

namespace autoloss::search {
namespace {

// Formulas are drawn ahead (outside the timed loop in BM_Screen, inside it in
// BM_DrawAndScreen) from a fixed seed, so every run screens the same stream.
constexpr int kStream = 1 << 14;

std::vector<expr::Formula> Stream(expr::SetKind set) {
    std::vector<expr::Formula> formulas;
    Rng rng(20210503);
    for (int i = 0; i < kStream; ++i) {
        formulas.push_back(RandomFormula(set, MeanSizeEightTrees(set), rng));
    }
    return formulas;
}

void BM_Screen(benchmark::State& state) {
    const auto set = static_cast<expr::SetKind>(state.range(0));
    const std::vector<expr::Formula> formulas = Stream(set);
    check::Screener screener(set);
    std::size_t i = 0;
    std::int64_t passed = 0;
    double nodes = 0;
    for (auto _ : state) {
        const expr::Formula& formula = formulas[i++ % formulas.size()];
        const check::ScreenResult result = screener.Screen(formula);
        passed += result.passed();
        nodes += formula.size();
        benchmark::DoNotOptimize(result);
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["pass_rate"] = static_cast<double>(passed) / state.iterations();
    state.counters["mean_size"] = nodes / state.iterations();
    state.SetLabel(std::string(expr::PrimitiveSet::Get(set).name()));
}

// The whole per-candidate cost: drawing the random tree, compiling and screening it.
void BM_DrawAndScreen(benchmark::State& state) {
    const auto set = static_cast<expr::SetKind>(state.range(0));
    check::Screener screener(set);
    std::uint64_t i = 0;
    for (auto _ : state) {
        Rng rng(StreamSeed(20210503, i++));
        const expr::Formula formula = RandomFormula(set, MeanSizeEightTrees(set), rng);
        benchmark::DoNotOptimize(screener.Screen(formula));
    }
    state.SetItemsProcessed(state.iterations());
    state.SetLabel(std::string(expr::PrimitiveSet::Get(set).name()));
}

BENCHMARK(BM_Screen)->DenseRange(0, 2)->MinTime(1.0);
BENCHMARK(BM_DrawAndScreen)->DenseRange(0, 2)->MinTime(1.0);

}  // namespace
}  // namespace autoloss::search

BENCHMARK_MAIN();
