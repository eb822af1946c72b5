// The evaluator: broadcasting rules by hand, and gradients against central finite differences.

#include "expr/evaluate.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "expr/known_losses.h"
#include "expr/parse.h"
#include "expr/print.h"
#include "expr/random_formula.h"
#include "expr/test_batches.h"

namespace autoloss::expr {
namespace {

using testing::RandomBatch;

std::vector<double> Eval(const char* text, SetKind set, const Batch<double>& batch) {
    return Evaluate(Parse(text, set, {TextForm::kAuto, true}), batch);
}

TEST(EvaluateTest, ClassDimensionFollowsTheSpec) {
    // Two samples, three classes.
    const std::vector<double> x = {1, 2, 3, 0, 0, 0};
    const std::vector<double> y = {0, 0, 1, 1, 0, 0};
    const std::vector<double> w = {0.5, 0.5, 0.5, 1, 1, 1};
    const Batch<double> batch{2, 3, {x.data(), y.data(), w.data()}};
    // A class-wise root is summed over classes; Dot gives one value per sample.
    EXPECT_EQ(Eval("x", SetKind::kClsMulti, batch), (std::vector<double>{6, 0}));
    EXPECT_EQ(Eval("dot(x, y)", SetKind::kClsMulti, batch), (std::vector<double>{3, 0}));
    // A per-sample value broadcasts along the classes: dot(x, y) + x, summed over classes.
    EXPECT_EQ(Eval("dot(x, y) + x", SetKind::kClsMulti, batch), (std::vector<double>{15, 0}));
    // A scalar root gives every sample the same loss.
    EXPECT_EQ(Eval("2", SetKind::kClsMulti, batch), (std::vector<double>{2, 2}));
    // Softmax of a value constant along the classes gives every class 1/C.
    const auto shares = Eval("dot(softmax(1), y)", SetKind::kClsMulti, batch);
    EXPECT_DOUBLE_EQ(shares[0], 1.0 / 3.0);
    // Dot of two scalars sums C equal products.
    EXPECT_EQ(Eval("dot(2, 3)", SetKind::kClsMulti, batch), (std::vector<double>{18, 18}));
    // Softmax is over classes, stable for large logits.
    const std::vector<double> big = {1000, 1000, 1000, 0, 0, 0};
    const Batch<double> big_batch{2, 3, {big.data(), y.data(), w.data()}};
    const auto log_softmax = Eval("dot(y, log(softmax(x)))", SetKind::kClsMulti, big_batch);
    EXPECT_NEAR(log_softmax[0], std::log(1.0 / 3.0), 1e-12);
}

TEST(EvaluateTest, BinaryAndRegressionShapes) {
    const std::vector<double> x = {0, 1, 2, 3};
    const Batch<double> binary{2, 2, {x.data(), x.data(), x.data(), x.data()}};
    EXPECT_EQ(Eval("x + 1", SetKind::kClsBinary, binary), (std::vector<double>{1, 2, 3, 4}));
    EXPECT_EQ(Eval("3", SetKind::kClsBinary, binary), (std::vector<double>(4, 3.0)));
    const std::vector<double> u = {4, 8};
    const std::vector<double> i = {2, 2};
    const Batch<double> reg{2, 1, {u.data(), i.data(), u.data()}};
    EXPECT_EQ(Eval("1 - i / u", SetKind::kReg, reg), (std::vector<double>{0.5, 0.75}));
    EXPECT_EQ(Eval("1", SetKind::kReg, reg), (std::vector<double>{1, 1}));
}

TEST(EvaluateTest, GradientOfBroadcastValuesSumsTheirUses) {
    const std::vector<double> x = {1, 2, 3, 4, 5, 6};
    const std::vector<double> y = {1, 0, 0, 0, 1, 0};
    const Batch<double> batch{2, 3, {x.data(), y.data(), y.data()}};
    const Program program(Parse("dot(x, y) * x", SetKind::kClsMulti));
    Evaluator<double> evaluator;
    evaluator.Forward(program, batch);
    // L_r = d_r · Σ_c x_rc with d_r = Σ_c x_rc y_rc: dL/dx_rc = y_rc Σ x + d_r.
    const auto grad = evaluator.Backward(program, batch, 0);
    const std::vector<double> expected = {6 + 1, 1, 1, 5, 15 + 5, 5};
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_DOUBLE_EQ(grad[i], expected[i]) << i;
    }
    // An input the formula does not read has zero gradient.
    for (double g : evaluator.Backward(program, batch, 2)) {
        EXPECT_EQ(g, 0.0);
    }
}

// Central difference of the summed loss with respect to one input element, at two step sizes;
// nullopt where they disagree (a kink or a pole nearby makes the reference meaningless) or
// where the loss is too large for a difference quotient to resolve the slope.
std::optional<double> NumericDerivative(const Program& program,
                                        RandomBatch& data,
                                        int input,
                                        std::size_t element) {
    Evaluator<double> evaluator;
    auto total = [&](double shift) {
        const double saved = data.inputs[input][element];
        data.inputs[input][element] = saved + shift;
        double sum = 0.0;
        for (double v : evaluator.Forward(program, data.View())) {
            sum += v;
        }
        data.inputs[input][element] = saved;
        return sum;
    };
    const double scale = std::max(1.0, std::abs(data.inputs[input][element]));
    const double h = 1e-5 * scale;
    const double coarse = (total(h) - total(-h)) / (2 * h);
    const double fine = (total(h / 2) - total(-h / 2)) / h;
    // Rounding of the summed loss itself limits what a difference quotient can resolve.
    const double resolution = 1e-15 * std::max(1.0, std::abs(total(0.0))) / h;
    if (!std::isfinite(coarse) || !std::isfinite(fine) || resolution > 1e-6 ||
        std::abs(coarse - fine) > 1e-5 * std::max(1.0, std::abs(fine))) {
        return std::nullopt;
    }
    return fine;
}

TEST(EvaluateTest, GradientsMatchFiniteDifferencesOnRandomFormulas) {
    std::mt19937_64 rng(11);
    int compared = 0;
    int skipped = 0;
    for (SetKind set : testing::kAllSets) {
        for (int trial = 0; trial < 300; ++trial) {
            const Formula formula = testing::RandomFormula(set, 5, rng);
            RandomBatch data(set, 3, 4, rng());
            // Move targets off exactly 0 and 1, where relu and abs have kinks that a central
            // difference averages.
            for (auto& input : data.inputs) {
                for (double& value : input) {
                    value += 0.01 + 0.1 * static_cast<double>(rng() % 1000) / 1000.0;
                }
            }
            const Program program(formula);
            Evaluator<double> evaluator;
            const auto values = evaluator.Forward(program, data.View());
            if (!std::all_of(
                    values.begin(), values.end(), [](double v) { return std::isfinite(v); })) {
                continue;
            }
            const int input = static_cast<int>(rng() % data.inputs.size());
            const auto backward = evaluator.Backward(program, data.View(), input);
            const std::vector<double> grad(backward.begin(), backward.end());
            for (std::size_t e = 0; e < grad.size(); ++e) {
                // A 0·∞ product in the chain rule gives NaN, as autograd does
                // (tests/expr_torch pins that); a difference quotient has no opinion there.
                const auto numeric = NumericDerivative(program, data, input, e);
                if (!numeric || !std::isfinite(grad[e])) {
                    ++skipped;
                    continue;
                }
                ++compared;
                ASSERT_NEAR(grad[e], *numeric, 1e-4 * std::max(1.0, std::abs(*numeric)))
                    << PrintPrefix(formula) << " input " << input << " element " << e;
            }
        }
    }
    EXPECT_GT(compared, 5000);
    EXPECT_LT(skipped, compared / 10);
}

TEST(EvaluateTest, FloatAgreesWithDoubleOnThePublishedLosses) {
    // Float and double run the same code and differ only by rounding on well-conditioned
    // losses. (On arbitrary formulas float also overflows where double does not, as PyTorch's
    // float32 does; tests/expr_torch compares our float path with libtorch's.)
    for (const KnownLoss& loss : KnownLosses()) {
        RandomBatch data(loss.set, 16, 5, 99);
        std::vector<std::vector<float>> narrow;
        Batch<float> batch{data.rows, data.classes, {}};
        for (std::size_t k = 0; k < data.inputs.size(); ++k) {
            narrow.emplace_back(data.inputs[k].begin(), data.inputs[k].end());
            batch.inputs[k] = narrow[k].data();
        }
        const auto wide = Evaluate(loss.Parsed(), data.View());
        const auto single = Evaluate(loss.Parsed(), batch);
        for (std::size_t i = 0; i < wide.size(); ++i) {
            EXPECT_NEAR(single[i], wide[i], 1e-5 * std::max(1.0, std::abs(wide[i]))) << loss.name;
        }
    }
}

}  // namespace
}  // namespace autoloss::expr
