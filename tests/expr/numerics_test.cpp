// Operator numerics against hand-derived values and central finite differences.

#include "expr/numerics.h"

#include <cmath>
#include <limits>
#include <numbers>

#include <gtest/gtest.h>

namespace autoloss::expr {
namespace {

constexpr Op kElementwiseUnary[] = {Op::kNeg,
                                    Op::kAbs,
                                    Op::kTanh,
                                    Op::kRelu,
                                    Op::kSin,
                                    Op::kCos,
                                    Op::kSig,
                                    Op::kSoftplus,
                                    Op::kExp,
                                    Op::kLog,
                                    Op::kSqrt,
                                    Op::kSgdf,
                                    Op::kSalf,
                                    Op::kSerf,
                                    Op::kSerfc};

TEST(NumericsTest, GuardsAndClampsMatchTheRelease) {
    // Log and Div carry 1e-20; Exp is clamped at 88.
    EXPECT_DOUBLE_EQ(UnaryValue(Op::kLog, 0.0), std::log(1e-20));
    EXPECT_TRUE(std::isnan(UnaryValue(Op::kLog, -1.0)));
    EXPECT_FLOAT_EQ(UnaryValue(Op::kLog, 0.0f), std::log(1e-20f));
    EXPECT_DOUBLE_EQ(BinaryValue(Op::kDiv, 1.0, 0.0), 1e20);
    EXPECT_DOUBLE_EQ(BinaryValue(Op::kDiv, 3.0, 2.0), 1.5);
    EXPECT_DOUBLE_EQ(UnaryValue(Op::kExp, 100.0), std::exp(88.0));
    EXPECT_TRUE(std::isfinite(UnaryValue(Op::kExp, 1000.0f)));
    EXPECT_DOUBLE_EQ(UnaryValue(Op::kExp, 1.0), std::numbers::e);
    EXPECT_TRUE(std::isnan(UnaryValue(Op::kSqrt, -1.0)));
    EXPECT_DOUBLE_EQ(UnaryValue(Op::kSoftplus, 0.0), std::log(2.0));
    EXPECT_DOUBLE_EQ(UnaryValue(Op::kSoftplus, 30.0), 30.0);
}

TEST(NumericsTest, ScaledCurvesHitTheirHandValues) {
    // All S-curves pass through 1/2 at 0 and saturate to 0 and 1.
    for (Op op : {Op::kSgdf, Op::kSalf, Op::kSerf}) {
        EXPECT_DOUBLE_EQ(UnaryValue(op, 0.0), 0.5) << Info(op).name;
        EXPECT_NEAR(UnaryValue(op, 60.0), 1.0, 1e-3) << Info(op).name;
        EXPECT_NEAR(UnaryValue(op, -60.0), 0.0, 1e-3) << Info(op).name;
    }
    // Sgdf(2): tanh(π/4) = 0.6557942026326724, g = 2·atan(that) = 1.1604...
    const double g = 2.0 * std::atan(std::tanh(std::numbers::pi / 4.0));
    EXPECT_DOUBLE_EQ(UnaryValue(Op::kSgdf, 2.0), (2.0 * g / std::numbers::pi + 1.0) / 2.0);
    // Salf(2): t = 1, (1/√2 + 1)/2.
    EXPECT_DOUBLE_EQ(UnaryValue(Op::kSalf, 2.0), (1.0 / std::sqrt(2.0) + 1.0) / 2.0);
    // Serf(2): (erf(√π/2) + 1)/2.
    EXPECT_DOUBLE_EQ(UnaryValue(Op::kSerf, 2.0),
                     (std::erf(std::sqrt(std::numbers::pi) / 2.0) + 1.0) / 2.0);
    EXPECT_DOUBLE_EQ(UnaryValue(Op::kSerfc, 2.0), 1.0 - UnaryValue(Op::kSerf, 2.0));
}

TEST(NumericsTest, DerivativesMatchCentralDifferences) {
    const double points[] = {-3.7, -1.2, -0.3, 0.45, 1.0, 2.5, 6.0};
    for (Op op : kElementwiseUnary) {
        for (double x : points) {
            if ((op == Op::kLog || op == Op::kSqrt) && x <= 0.0) {
                continue;
            }
            const double h = 1e-6;
            const double numeric = (UnaryValue(op, x + h) - UnaryValue(op, x - h)) / (2.0 * h);
            const double analytic = UnaryDerivative(op, x, UnaryValue(op, x));
            EXPECT_NEAR(analytic, numeric, 1e-6 * std::max(1.0, std::abs(numeric)))
                << Info(op).name << " at " << x;
        }
    }
}

TEST(NumericsTest, NanPropagatesThroughEveryOperator) {
    // A NaN hidden by an operator would let an invalid candidate pass the validity check.
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (Op op : kElementwiseUnary) {
        EXPECT_TRUE(std::isnan(UnaryValue(op, nan))) << Info(op).name;
    }
    for (Op op : {Op::kAdd, Op::kSub, Op::kMul, Op::kDiv}) {
        EXPECT_TRUE(std::isnan(BinaryValue(op, nan, 1.0))) << Info(op).name;
        EXPECT_TRUE(std::isnan(BinaryValue(op, 1.0, nan))) << Info(op).name;
    }
}

TEST(NumericsTest, KinksFollowAutogradConventions) {
    EXPECT_EQ(UnaryDerivative(Op::kRelu, 0.0, 0.0), 0.0);
    EXPECT_EQ(UnaryDerivative(Op::kAbs, 0.0, 0.0), 0.0);
    EXPECT_EQ(UnaryDerivative(Op::kExp, 88.0, std::exp(88.0)), std::exp(88.0));
    EXPECT_EQ(UnaryDerivative(Op::kExp, 90.0, std::exp(88.0)), 0.0);
    EXPECT_EQ(UnaryDerivative(Op::kSoftplus, 25.0, 25.0), 1.0);
    EXPECT_TRUE(std::isinf(UnaryDerivative(Op::kSqrt, 0.0, 0.0)));
}

}  // namespace
}  // namespace autoloss::expr
