#include "check/screener.h"

#include <string>

#include <gtest/gtest.h>

#include "expr/known_losses.h"
#include "expr/parse.h"

namespace autoloss::check {
namespace {

using expr::SetKind;

ScreenResult ScreenText(const std::string& text, SetKind set) {
    Screener screener(set);
    return screener.Screen(expr::Parse(text, set));
}

// Expects `text` to be rejected at `stage` for `reason`, with a readable explanation.
void ExpectRejected(const std::string& text, SetKind set, Stage stage, Reason reason) {
    const ScreenResult result = ScreenText(text, set);
    EXPECT_EQ(ReasonCode(result.verdict.reason), ReasonCode(reason)) << text;
    EXPECT_EQ(StageName(result.stage), StageName(stage)) << text;
    EXPECT_FALSE(Describe(result.verdict, set).empty());
}

TEST(ScreenerTest, PassesEveryPublishedLossWhenScreenedInItsSet) {
    for (const expr::KnownLoss& loss : expr::KnownLosses()) {
        Screener screener(loss.set);
        const ScreenResult result = screener.Screen(loss.Parsed());
        EXPECT_TRUE(result.passed()) << loss.name << ": "
                                     << Describe(result.verdict, loss.set);
        EXPECT_NE(result.fingerprint, 0u) << loss.name;
    }
}

TEST(ScreenerTest, RejectsNegativeLogarithmAsNonFiniteWhenLogitsArePositive) {
    ExpectRejected("Log(Neg(X))", SetKind::kClsMulti, Stage::kValidity, Reason::kNonFinite);
    ExpectRejected("Log(Neg(X))", SetKind::kClsBinary, Stage::kValidity, Reason::kNonFinite);
}

TEST(ScreenerTest, RejectsHiddenNanWhenReluWrapsIt) {
    // PyTorch's relu propagates NaN; a detector would see it.
    ExpectRejected("Relu(Log(Neg(X)))", SetKind::kClsMulti, Stage::kValidity, Reason::kNonFinite);
}

TEST(ScreenerTest, RejectsFloatOverflowWhenDoubleWouldSurvive) {
    // e^88 twice is finite in double and +inf in float, the precision detectors train in.
    ExpectRejected("Mul(Exp(Exp(X)),Exp(Exp(X)))", SetKind::kClsBinary, Stage::kValidity,
                   Reason::kNonFinite);
}

TEST(ScreenerTest, RejectsFormulasThatIgnoreThePrediction) {
    ExpectRejected("Add(Y,Z)", SetKind::kClsMulti, Stage::kValidity, Reason::kIgnoresPrediction);
    ExpectRejected("Sub(X,X)", SetKind::kClsMulti, Stage::kValidity, Reason::kIgnoresPrediction);
    ExpectRejected("Mul(Q,Sig(Sub(X,X)))", SetKind::kClsBinary, Stage::kValidity,
                   Reason::kIgnoresPrediction);
    ExpectRejected("Div(E,E)", SetKind::kReg, Stage::kValidity, Reason::kIgnoresPrediction);
    ExpectRejected("Add(1,2)", SetKind::kReg, Stage::kValidity, Reason::kIgnoresPrediction);
}

TEST(ScreenerTest, RejectsLossThatRisesWithTheScore) {
    // Cross-entropy with the sign flipped, and binary cross-entropy with the targets swapped.
    ExpectRejected("Dot(Y,Log(Softmax(X)))", SetKind::kClsMulti, Stage::kConvergence,
                   Reason::kRisesWithPositiveScore);
    ExpectRejected("Neg(Add(Mul(PY,Log(Sub(1,Sig(X)))),Mul(NY,Log(Sig(X)))))",
                   SetKind::kClsBinary, Stage::kConvergence, Reason::kRisesWithPositiveScore);
}

TEST(ScreenerTest, RejectsLossWhoseGradientDoesNotVanish) {
    // -s for positives: monotonic, but |dL/ds| stays 1.
    ExpectRejected("Neg(Dot(Y,X))", SetKind::kClsMulti, Stage::kConvergence,
                   Reason::kGradientDoesNotVanish);
    ExpectRejected("Sub(Mul(NY,Sig(X)),Mul(PY,X))", SetKind::kClsBinary, Stage::kConvergence,
                   Reason::kGradientDoesNotVanish);
}

TEST(ScreenerTest, RejectsLossThatFallsWithANegativeClassScore) {
    // Cross-entropy minus the non-target logits: pushing a wrong class up lowers the loss.
    ExpectRejected("Sub(Neg(Dot(Y,Log(Softmax(X)))),Dot(Sub(1,Y),X))", SetKind::kClsMulti,
                   Stage::kConvergence, Reason::kFallsWithNegativeScore);
    // Binary: the negatives' term has the wrong sign.
    ExpectRejected("Neg(Add(Mul(PY,Log(Sig(X))),Mul(NY,Sig(X))))", SetKind::kClsBinary,
                   Stage::kConvergence, Reason::kFallsWithNegativeScore);
}

TEST(ScreenerTest, RejectsLossThatIgnoresThePositiveScore) {
    ExpectRejected("Dot(Sub(1,Y),Softplus(X))", SetKind::kClsMulti, Stage::kConvergence,
                   Reason::kFlatInPositiveScore);
}

TEST(ScreenerTest, RejectsRegressionLossThatFallsWithDistance) {
    ExpectRejected("Div(I,U)", SetKind::kReg, Stage::kConvergence,
                   Reason::kFallsWithTranslation);
    ExpectRejected("Neg(U)", SetKind::kReg, Stage::kConvergence, Reason::kFallsWithTranslation);
}

TEST(ScreenerTest, RejectsRegressionLossThatIsFlatWhenTheBoxGrows) {
    // The GIoU penalty alone: zero while one box holds the other.
    ExpectRejected("Div(Sub(E,U),E)", SetKind::kReg, Stage::kConvergence,
                   Reason::kFlatWithDistance);
}

TEST(ScreenerTest, ReportsEveryCurveWhenAskedForDetails) {
    Screener screener(SetKind::kClsMulti);
    const expr::Formula formula = expr::Parse("Dot(Y,Log(Softmax(X)))", SetKind::kClsMulti);
    std::vector<CurveReport> report;
    const Verdict verdict = screener.Convergence(expr::Program(formula), &report);
    EXPECT_EQ(verdict.reason, Reason::kRisesWithPositiveScore);
    const SetProbes& probes = Probes(SetKind::kClsMulti);
    std::size_t curves = 0;
    for (const ConvergenceProbes& tier : probes.convergence) {
        curves += tier.curves.size();
    }
    ASSERT_EQ(report.size(), curves);
    for (const CurveReport& curve : report) {
        EXPECT_EQ(curve.values.size(), curve.curve.params.size());
        EXPECT_EQ(curve.gradients.size(), curve.curve.params.size());
    }
    // d/ds of log softmax at s = 20 against two logits at 0 is about 2e-9: the tail is reported.
    EXPECT_LT(std::abs(report[0].gradients.back()), 1e-8);
}

TEST(ScreenerTest, NeverThrowsWhenFormulasAreDeep) {
    // 150 nested Exp: finite in double but +inf... or not; whatever the verdict, no throw.
    std::string text = "X";
    for (int i = 0; i < 150; ++i) {
        text = "Exp(" + text + ")";
    }
    EXPECT_NO_THROW(ScreenText(text, SetKind::kClsBinary));
}

TEST(VerdictTest, RoundTripsEveryReasonCode) {
    for (int i = 0; i < kReasonCount; ++i) {
        const auto reason = static_cast<Reason>(i);
        const auto found = FindReason(ReasonCode(reason));
        ASSERT_TRUE(found.has_value()) << ReasonCode(reason);
        EXPECT_EQ(*found, reason);
    }
    EXPECT_FALSE(FindReason("no_such_reason").has_value());
}

}  // namespace
}  // namespace autoloss::check
