// The known losses as formulas agree with straightforward implementations of their
// definitions (SPEC.md §2); libtorch versions are checked in tests/expr_torch.

#include "expr/known_losses.h"

#include <cmath>

#include <gtest/gtest.h>

#include "expr/evaluate.h"
#include "expr/test_batches.h"

namespace autoloss::expr {
namespace {

using testing::RandomBatch;

double Sigmoid(double x) {
    return 1.0 / (1.0 + std::exp(-x));
}

std::vector<double> EvaluateNamed(const char* name, const RandomBatch& data) {
    return Evaluate(FindKnownLoss(name)->Parsed(), data.View());
}

TEST(KnownLossesTest, CrossEntropyFamilyMatchesItsDefinition) {
    const RandomBatch data(SetKind::kClsMulti, 32, 6, 1);
    const auto ce = EvaluateNamed("ce", data);
    const auto cei = EvaluateNamed("cei", data);
    const auto cse_a = EvaluateNamed("cse-autoloss-a-cls", data);
    for (int r = 0; r < data.rows; ++r) {
        double total = 0.0;
        for (int c = 0; c < data.classes; ++c) {
            total += std::exp(data.inputs[0][r * data.classes + c]);
        }
        double expected_ce = 0.0;
        double expected_cei = 0.0;
        double expected_a = 0.0;
        for (int c = 0; c < data.classes; ++c) {
            const std::size_t i = r * data.classes + c;
            const double log_p = std::log(std::exp(data.inputs[0][i]) / total + 1e-20);
            const double y = data.inputs[1][i];
            const double w = data.inputs[2][i];
            expected_ce -= y * log_p;
            expected_cei -= w * y * log_p;
            expected_a -= y * (1.0 + std::sin(w)) * log_p;
        }
        EXPECT_NEAR(ce[r], expected_ce, 1e-12);
        EXPECT_NEAR(cei[r], expected_cei, 1e-12);
        EXPECT_NEAR(cse_a[r], expected_a, 1e-12);
    }
}

TEST(KnownLossesTest, FocalFamilyMatchesItsDefinition) {
    const RandomBatch data(SetKind::kClsBinary, 16, 5, 2);
    const auto fl = EvaluateNamed("fl", data);
    const auto fli = EvaluateNamed("fli", data);
    for (std::size_t i = 0; i < fl.size(); ++i) {
        const double p = Sigmoid(data.inputs[0][i]);
        const double q = data.inputs[1][i];
        const double y = data.inputs[2][i];
        const double negative = (1 - y) * p * p * std::log(1 - p + 1e-20);
        EXPECT_NEAR(fl[i], -(y * (1 - p) * (1 - p) * std::log(p + 1e-20) + negative), 1e-12);
        EXPECT_NEAR(fli[i], -(q * (1 - p) * (1 - p) * std::log(p + 1e-20) + negative), 1e-12);
    }
}

TEST(KnownLossesTest, IouFamilyMatchesItsDefinition) {
    const RandomBatch data(SetKind::kReg, 64, 1, 3);
    const auto iou = EvaluateNamed("iou", data);
    const auto giou = EvaluateNamed("giou", data);
    const auto cse_a = EvaluateNamed("cse-autoloss-a-reg", data);
    for (int r = 0; r < data.rows; ++r) {
        const double u = data.inputs[0][r];
        const double i = data.inputs[1][r];
        const double e = data.inputs[2][r];
        EXPECT_NEAR(iou[r], 1 - i / u, 1e-12);
        EXPECT_NEAR(giou[r], 1 - i / u + (e - u) / e, 1e-12);
        // CSE-Autoloss-A reg: 1 - (i/u - (e - (i + 2))/e).
        EXPECT_NEAR(cse_a[r], 1 - (i / u - (e - (i + 2)) / e), 1e-12);
    }
}

TEST(KnownLossesTest, DefaultsAndInitialLossesFollowTheSpec) {
    EXPECT_EQ(DefaultLoss(SetKind::kClsMulti).name, "ce");
    EXPECT_EQ(DefaultLoss(SetKind::kClsBinary).name, "fl");
    EXPECT_EQ(DefaultLoss(SetKind::kReg).name, "giou");
    EXPECT_EQ(InitialLoss(SetKind::kClsMulti).name, "cei");
    EXPECT_EQ(InitialLoss(SetKind::kClsBinary).name, "fli");
    EXPECT_EQ(InitialLoss(SetKind::kReg).name, "giou");
    EXPECT_EQ(FindKnownLoss("CSE-Autoloss-A-Cls"), FindKnownLoss("cse-autoloss-a-cls"));
    EXPECT_EQ(FindKnownLoss("nope"), nullptr);
    for (const KnownLoss& loss : KnownLosses()) {
        EXPECT_EQ(loss.Parsed().set(), loss.set);
    }
}

}  // namespace
}  // namespace autoloss::expr
