// The equivalence fingerprint over random formulas: rewrites of one function share it, and two
// formulas that share it have the same gradients (so train alike) on independent probes.

#include <cmath>
#include <cstdio>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>

#include "check/boxes.h"
#include "check/probes.h"
#include "check/screener.h"
#include "expr/print.h"
#include "expr/simplify.h"
#include "search/random.h"
#include "search/variation.h"

namespace autoloss::search {
namespace {

using expr::SetKind;

// Independent probes: more rows, other values and another class count than the fingerprint's
// own, inside each set's domain ([64, 4] logits for cls, boxes of side 0.5 to 500 for reg).
check::ProbeBatch<double> IndependentProbes(SetKind set) {
    check::ProbeBatch<double> batch;
    Rng rng(99);
    batch.rows = 64;
    batch.classes = set == SetKind::kReg ? 1 : 4;
    for (int r = 0; r < batch.rows; ++r) {
        if (set == SetKind::kReg) {
            const double side = 0.5 * std::pow(1000.0, rng.Uniform());
            const check::Overlap overlap = check::ComputeOverlap(
                check::Scaled(check::Shifted(check::Square(side), (rng.Uniform() * 3 - 1.5) * side,
                                             (rng.Uniform() * 3 - 1.5) * side),
                              0.5 + rng.Uniform() * 1.5, 0.5 + rng.Uniform() * 1.5),
                check::Square(side));
            batch.inputs[0].push_back(overlap.union_area);
            batch.inputs[1].push_back(overlap.intersection);
            batch.inputs[2].push_back(overlap.enclosing);
            continue;
        }
        const int target = rng.Below(batch.classes);
        const double iou = rng.Uniform();
        for (int c = 0; c < batch.classes; ++c) {
            batch.inputs[0].push_back(rng.Uniform() * 12 - 6);
            if (set == SetKind::kClsMulti) {
                batch.inputs[1].push_back(c == target ? 1 : 0);
                batch.inputs[2].push_back(target == batch.classes - 1 ? 1 : iou);
            } else {
                const bool positive = c == target && r % 2 == 0;
                batch.inputs[1].push_back(positive ? iou : 0);
                batch.inputs[2].push_back(positive ? 1 : 0);
                batch.inputs[3].push_back(positive ? 0 : 1);
            }
        }
    }
    return batch;
}

bool SameNumbers(const std::vector<double>& a, const std::vector<double>& b) {
    for (std::size_t k = 0; k < a.size(); ++k) {
        if (std::isnan(a[k]) != std::isnan(b[k])) {
            return false;
        }
        if (std::abs(a[k] - b[k]) > 1e-6 * (1 + std::abs(a[k])) && !std::isnan(a[k])) {
            return false;
        }
    }
    return true;
}

class EquivalenceTest : public ::testing::TestWithParam<SetKind> {};

// The gradients with respect to the prediction's inputs (the logits; U, I and E), one input
// after the other: what training sees of a loss.
std::vector<double> PredictionGradients(expr::Evaluator<double>& evaluator,
                                        const expr::Program& program,
                                        const check::ProbeBatch<double>& probes,
                                        SetKind set) {
    const expr::Batch<double> view = probes.View();
    evaluator.Forward(program, view);  // Backward differentiates the last forward pass
    std::vector<double> gradients;
    for (int input = 0; input < (set == SetKind::kReg ? 3 : 1); ++input) {
        const auto gradient = evaluator.Backward(program, view, input);
        gradients.insert(gradients.end(), gradient.begin(), gradient.end());
    }
    return gradients;
}

TEST_P(EquivalenceTest, SharesFingerprintsOnlyWhenGradientsAgreeOnIndependentProbes) {
    const SetKind set = GetParam();
    const check::ProbeBatch<double> probes = IndependentProbes(set);
    check::Screener screener(set);
    expr::Evaluator<double> evaluator;
    std::unordered_map<check::Fingerprint, std::vector<double>> classes;
    std::unordered_map<check::Fingerprint, std::string> names;
    Rng rng(11);
    int fingerprinted = 0;
    int shared = 0;
    // The search fingerprints only candidates that passed the earlier stages (formulas that
    // saturate to a constant on most inputs, say, never get here): a thousand of those, about
    // half a million pairs.
    for (int i = 0; i < 600000 && fingerprinted < 1000; ++i) {
        const expr::Formula formula = RandomFormula(set, MeanSizeEightTrees(set), rng);
        const expr::Program program(formula);
        const check::ScreenResult result = screener.Screen(formula, program);
        if (!result.passed()) {
            continue;
        }
        const check::Fingerprint fingerprint = result.fingerprint;
        ++fingerprinted;
        const std::vector<double> gradients =
            PredictionGradients(evaluator, program, probes, set);
        const auto [it, inserted] = classes.emplace(fingerprint, gradients);
        names.emplace(fingerprint, expr::PrintPrefix(formula));
        if (!inserted) {
            ++shared;
            EXPECT_TRUE(SameNumbers(it->second, gradients))
                << "fingerprint collision of differently training losses: "
                << expr::PrintPrefix(formula) << " and " << names[fingerprint];
        }
    }
    // Many classes, and many pairs that share one.
    EXPECT_EQ(fingerprinted, 1000);
    EXPECT_GT(static_cast<int>(classes.size()), 100);
    EXPECT_GT(shared, 20);
}

TEST_P(EquivalenceTest, KeepsTheFingerprintWhenSimplified) {
    const SetKind set = GetParam();
    check::Screener screener(set);
    Rng rng(12);
    int compared = 0;
    int split = 0;
    // Candidates that pass every cheap stage, the only ones the search fingerprints. (On
    // arbitrary formulas, a rewrite such as Div(E,E) → 1 can change a gradient's rounding noise,
    // which a factor of e^88 elsewhere in the formula then makes visible.)
    for (int i = 0; i < 200000 && compared < 300; ++i) {
        const expr::Formula formula = RandomFormula(set, MeanSizeEightTrees(set), rng);
        const check::ScreenResult result = screener.Screen(formula);
        if (!result.passed()) {
            continue;
        }
        const check::Fingerprint original = result.fingerprint;
        const expr::Formula simplified = expr::Simplify(formula);
        check::Fingerprint rewritten = 0;
        ASSERT_TRUE(screener.Equivalence(expr::Program(simplified), &rewritten).passed());
        if (original != rewritten) {
            ++split;
            std::printf("split by simplification: %s -> %s\n", expr::PrintPrefix(formula).c_str(),
                        expr::PrintPrefix(simplified).c_str());
        }
        ++compared;
    }
    EXPECT_EQ(compared, 300);
    // A split costs one extra evaluation, never a lost candidate; it takes a rewrite that
    // cancels large terms (check/fingerprint.h), which few formulas contain.
    EXPECT_LE(split, 3);
}

INSTANTIATE_TEST_SUITE_P(AllSets, EquivalenceTest,
                         ::testing::Values(SetKind::kClsMulti, SetKind::kClsBinary,
                                           SetKind::kReg));

}  // namespace
}  // namespace autoloss::search
