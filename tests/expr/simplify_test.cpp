// The simplifier: its rules, idempotence, and that it keeps the function.

#include "expr/simplify.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "expr/evaluate.h"
#include "expr/known_losses.h"
#include "expr/parse.h"
#include "expr/print.h"
#include "expr/random_formula.h"
#include "expr/test_batches.h"

namespace autoloss::expr {
namespace {

std::string Simplified(const char* text, SetKind set) {
    return PrintInfix(Simplify(Parse(text, set, {TextForm::kAuto, true})));
}

TEST(SimplifyTest, RemovesIdentitiesAndFoldsConstants) {
    const SetKind multi = SetKind::kClsMulti;
    EXPECT_EQ(Simplified("Neg(Neg(X))", multi), "x");
    EXPECT_EQ(Simplified("Sub(X,X)", multi), "0");
    EXPECT_EQ(Simplified("Add(X,Sub(Y,Y))", multi), "x");
    EXPECT_EQ(Simplified("Mul(1,Div(X,1))", multi), "x");
    EXPECT_EQ(Simplified("Div(X,Neg(1))", multi), "-x");
    EXPECT_EQ(Simplified("Add(X,Neg(Y))", multi), "x - y");
    EXPECT_EQ(Simplified("Sub(X,Neg(Y))", multi), "x + y");
    EXPECT_EQ(Simplified("Neg(Sub(X,Y))", multi), "y - x");
    EXPECT_EQ(Simplified("Sub(0,X)", multi), "-x");
    EXPECT_EQ(Simplified("Abs(Neg(Abs(X)))", multi), "abs(x)");
    EXPECT_EQ(Simplified("Relu(Relu(X))", multi), "relu(x)");
    EXPECT_EQ(Simplified("Add(1,Add(2,X))", multi), "1 + (2 + x)");
    EXPECT_EQ(Simplified("Mul(Add(1,2),X)", multi), "3 * x");
    EXPECT_EQ(Simplified("Sub(1,3)", multi), "-2");
    EXPECT_EQ(
        Simplified("Log(1)", multi),
        PrintInfix(Parse(FormatConstant(std::log(1 + 1e-20)), multi, {TextForm::kAuto, true})));
    // Class-count-dependent operators are never folded.
    EXPECT_EQ(Simplified("Softmax(1)", multi), "softmax(1)");
    EXPECT_EQ(Simplified("Dot(1,2)", multi), "dot(1, 2)");
    // A NaN-producing constant stays as it is.
    EXPECT_EQ(Simplified("Log(Neg(1))", multi), "log(-1)");
}

TEST(SimplifyTest, DividesAreaByItselfOnlyWhenProvablyPositive) {
    EXPECT_EQ(Simplified("Div(E,E)", SetKind::kReg), "1");
    EXPECT_EQ(Simplified("Div(Add(3,U),Add(3,U))", SetKind::kReg), "1");
    // I can be 0, where I / (I + 1e-20) is 0, not 1.
    EXPECT_EQ(Simplified("Div(I,I)", SetKind::kReg), "i / i");
    EXPECT_EQ(Simplified("Div(X,X)", SetKind::kClsMulti), "x / x");
    EXPECT_EQ(PrintPrefix(Simplify(FindKnownLoss("cse-autoloss-b-reg")->Parsed())),
              "Neg(Div(Add(Div(Sub(E,Add(1,I)),Neg(Add(3,Add(2,U)))),Add(1,E)),"
              "Sub(E,Div(Neg(Add(U,I)),Neg(3)))))");
}

TEST(SimplifyTest, IsIdempotentAndKeepsTheFunction) {
    std::mt19937_64 rng(5);
    for (SetKind set : testing::kAllSets) {
        const testing::RandomBatch data(set, 8, 5, 17);
        for (int trial = 0; trial < 3000; ++trial) {
            const Formula formula = testing::RandomFormula(set, 6, rng);
            const Formula simple = Simplify(formula);
            ASSERT_EQ(Simplify(simple), simple) << PrintPrefix(formula);
            ASSERT_LE(simple.size(), formula.size() + 1) << PrintPrefix(formula);
            const auto before = Evaluate(formula, data.View());
            const auto after = Evaluate(simple, data.View());
            for (std::size_t i = 0; i < before.size(); ++i) {
                if (std::isfinite(before[i])) {
                    ASSERT_NEAR(after[i], before[i], 1e-9 * std::max(1.0, std::abs(before[i])))
                        << PrintPrefix(formula) << " -> " << PrintPrefix(simple);
                }
            }
        }
    }
}

}  // namespace
}  // namespace autoloss::expr
