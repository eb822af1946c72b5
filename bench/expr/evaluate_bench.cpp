// Formula evaluation throughput: formulas evaluated per second, with and without the gradient,
// on a detector-sized batch (256 × 81) and on a small probe batch (8 × 4), in float and double.
// Run: build/bench/autoloss_expr_bench (see docs/benchmarks.md).

#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "expr/evaluate.h"
#include "expr/known_losses.h"
#include "expr/random_formula.h"
#include "expr/test_batches.h"

namespace autoloss::expr {
namespace {

// A fixed stream of random cls-multi formulas of mean size about 8, like the paper's screening.
std::vector<Program> Stream() {
    std::mt19937_64 rng(1);
    std::vector<Program> programs;
    while (programs.size() < 512) {
        const Formula formula = testing::RandomFormula(SetKind::kClsMulti, 4, rng);
        if (formula.size() >= 4 && formula.size() <= 12) {
            programs.emplace_back(formula);
        }
    }
    return programs;
}

template <typename T>
void EvaluateStream(benchmark::State& state) {
    const bool with_gradient = state.range(2) != 0;
    const testing::RandomBatch data(
        SetKind::kClsMulti, static_cast<int>(state.range(0)), static_cast<int>(state.range(1)), 5);
    std::vector<std::vector<T>> typed;
    Batch<T> batch{data.rows, data.classes, {}};
    for (std::size_t k = 0; k < data.inputs.size(); ++k) {
        typed.emplace_back(data.inputs[k].begin(), data.inputs[k].end());
        batch.inputs[k] = typed[k].data();
    }
    const std::vector<Program> programs = Stream();
    Evaluator<T> evaluator;
    std::size_t next = 0;
    for (auto _ : state) {
        const Program& program = programs[next++ % programs.size()];
        benchmark::DoNotOptimize(evaluator.Forward(program, batch).data());
        if (with_gradient) {
            benchmark::DoNotOptimize(evaluator.Backward(program, batch, 0).data());
        }
    }
    state.counters["formulas_per_second"] =
        benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void Arguments(benchmark::internal::Benchmark* bench) {
    bench->ArgNames({"rows", "classes", "grad"});
    for (int grad : {0, 1}) {
        bench->Args({256, 81, grad});
        bench->Args({8, 4, grad});
    }
}

BENCHMARK(EvaluateStream<float>)->Apply(Arguments);
BENCHMARK(EvaluateStream<double>)->Apply(Arguments);

}  // namespace
}  // namespace autoloss::expr

BENCHMARK_MAIN();
