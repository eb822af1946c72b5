#include "check/fingerprint.h"

#include <cmath>

#include <gtest/gtest.h>

#include "check/screener.h"
#include "expr/parse.h"

namespace autoloss::check {
namespace {

using expr::SetKind;

Fingerprint FingerprintOf(const std::string& text, SetKind set) {
    Screener screener(set);
    Fingerprint fingerprint = 0;
    const expr::Formula formula = expr::Parse(text, set);
    const Verdict verdict = screener.Equivalence(expr::Program(formula), &fingerprint);
    EXPECT_TRUE(verdict.passed()) << text << ": " << Describe(verdict, set);
    return fingerprint;
}

TEST(FingerprintTest, MatchesWhenOperandsCommute) {
    EXPECT_EQ(FingerprintOf("Neg(Dot(Y,Log(Softmax(Add(X,Z)))))", SetKind::kClsMulti),
              FingerprintOf("Neg(Dot(Y,Log(Softmax(Add(Z,X)))))", SetKind::kClsMulti));
    EXPECT_EQ(FingerprintOf("Mul(Sig(X),Add(Q,PY))", SetKind::kClsBinary),
              FingerprintOf("Mul(Add(PY,Q),Sig(X))", SetKind::kClsBinary));
    EXPECT_EQ(FingerprintOf("Add(Div(I,U),E)", SetKind::kReg),
              FingerprintOf("Add(E,Div(I,U))", SetKind::kReg));
}

TEST(FingerprintTest, MatchesWhenDoubleNegationIsRemoved) {
    EXPECT_EQ(FingerprintOf("Neg(Neg(Sub(1,Div(I,U))))", SetKind::kReg),
              FingerprintOf("Sub(1,Div(I,U))", SetKind::kReg));
    EXPECT_EQ(FingerprintOf("Neg(Neg(Log(Sig(X))))", SetKind::kClsBinary),
              FingerprintOf("Log(Sig(X))", SetKind::kClsBinary));
}

TEST(FingerprintTest, MatchesWhenAdditionIsRegrouped) {
    // Reassociation changes the last bits; rounding keeps the class together.
    EXPECT_EQ(FingerprintOf("Add(Add(Sig(X),Tanh(X)),Sin(X))", SetKind::kClsBinary),
              FingerprintOf("Add(Sig(X),Add(Tanh(X),Sin(X)))", SetKind::kClsBinary));
}

TEST(FingerprintTest, MatchesWhenLossesDifferByAConstant) {
    // GIoU and GIoU + 1 (a mutation the search makes often) train identically.
    EXPECT_EQ(FingerprintOf("Add(Sub(1,Div(I,U)),Div(Sub(E,U),E))", SetKind::kReg),
              FingerprintOf("Add(Sub(2,Div(I,U)),Div(Sub(E,U),E))", SetKind::kReg));
    EXPECT_EQ(FingerprintOf("Mul(Sig(X),PY)", SetKind::kClsBinary),
              FingerprintOf("Sub(Mul(Sig(X),PY),3)", SetKind::kClsBinary));
    EXPECT_NE(FingerprintOf("Mul(Sig(X),PY)", SetKind::kClsBinary),
              FingerprintOf("Mul(Sig(X),Mul(PY,2))", SetKind::kClsBinary));
}

TEST(FingerprintTest, DiffersWhenFunctionsDiffer) {
    EXPECT_NE(FingerprintOf("Sub(1,Div(I,U))", SetKind::kReg),
              FingerprintOf("Sub(1,Div(I,E))", SetKind::kReg));
    EXPECT_NE(FingerprintOf("Log(Sig(X))", SetKind::kClsBinary),
              FingerprintOf("Log(Sig(Mul(X,2)))", SetKind::kClsBinary));
    // Same formula in two sets: different functions.
    EXPECT_NE(FingerprintOf("Sig(X)", SetKind::kClsBinary),
              FingerprintOf("Sig(X)", SetKind::kClsMulti));
}

TEST(FingerprintTest, RoundsSoThatUlpNoiseDoesNotMatter) {
    EXPECT_EQ(RoundForFingerprint(0.3), RoundForFingerprint(std::nextafter(0.3, 1.0)));
    EXPECT_EQ(RoundForFingerprint(1e-12), RoundForFingerprint(0.0));
    EXPECT_EQ(RoundForFingerprint(-0.0), RoundForFingerprint(0.0));
    EXPECT_NE(RoundForFingerprint(0.3), RoundForFingerprint(0.3001));
    EXPECT_NE(RoundForFingerprint(0.3), RoundForFingerprint(-0.3));
    // Just below a power of two rounds up to it, written the same way.
    EXPECT_EQ(RoundForFingerprint(std::nextafter(1.0, 0.0)), RoundForFingerprint(1.0));
}

TEST(FingerprintTest, RoundTripsHexText) {
    Fingerprint parsed = 0;
    ASSERT_TRUE(ParseFingerprintHex(FingerprintHex(0x0123456789abcdefull), &parsed));
    EXPECT_EQ(parsed, 0x0123456789abcdefull);
    EXPECT_FALSE(ParseFingerprintHex("xyz", &parsed));
    EXPECT_FALSE(ParseFingerprintHex("0123456789abcdeg", &parsed));
}

}  // namespace
}  // namespace autoloss::check
