#pragma once

#include <vector>

#include "check/fingerprint.h"
#include "check/probes.h"
#include "check/verdict.h"
#include "expr/evaluate.h"
#include "expr/formula.h"

namespace autoloss::check {

// Tolerances of the property checks, relative to the scale of the numbers compared.
//
// A step along a curve counts as a rise (fall) only beyond kValueTolerance·(1 + |L|) of the two
// values compared, so rounding noise on a plateau (focal loss at s ≥ 12 is 0 up to 1e-16) is
// not a violation while any real rise is. "Flat" compares the ends with max |L| over the curve.
inline constexpr double kValueTolerance = 1e-9;
// Likewise for gradient signs, relative to (1 + the largest |dL/dx| over the row's classes).
inline constexpr double kGradientTolerance = 1e-9;
// Convergence: at the end of the grid (s = 20) |dL/ds| must have dropped to kTailRatio of its
// peak over the curve (or below kTailFloor) and must not be rising; the secant slope of the
// values between the last two grid points (12 and 20) must likewise have dropped to kTailRatio
// of the steepest secant. Cross-entropy reaches 1e-9 of its peak there, the slowest published
// S-curve (Salf) 2e-3; a loss linear in s keeps 1.
inline constexpr double kTailRatio = 1e-2;
inline constexpr double kTailFloor = 1e-6;
// Validity: two losses of one group differing by less than kSameValue·(1 + |L|) in float are
// "the same" when deciding whether a formula ignores the prediction.
inline constexpr double kSameValue = 1e-6;

// The outcome of all cheap stages for one candidate.
struct ScreenResult {
    Verdict verdict;                     // the first rejection, or a passed verdict
    Stage stage = Stage::kValidity;      // the stage that rejected it; kEquivalence if it passed
    Fingerprint fingerprint = 0;         // set when the candidate passed every stage

    bool passed() const { return verdict.passed(); }
};

// One convergence curve as evaluated, for a person to read (`formula check`).
struct CurveReport {
    Curve curve;                      // the probe curve (kind, weight, parameters)
    std::vector<double> values;       // the loss at each point (summed over a binary row)
    std::vector<double> gradients;    // dL/ds of the varied logit at each point (cls only)
};

// Runs the cheap screening stages of one primitive set on formulas, cheapest first with early
// exit, reusing its evaluators' buffers between formulas. Never throws for any formula: every
// failure is a Verdict. Not thread-safe: use one per thread.
class Screener {
public:
    explicit Screener(expr::SetKind set);

    expr::SetKind set() const { return set_; }

    // Stage 1: rejects formulas that do not read the prediction, produce NaN or ±inf on a
    // validity probe (in float), or give the same loss for every prediction.
    Verdict Validity(const expr::Formula& formula, const expr::Program& program);

    // Stage 2: the convergence properties (SPEC.md §3 2b), tier by tier (SetProbes), stopping
    // at the first failure. With `report`, every curve is evaluated and described even after a
    // failure; the verdict is still the first failure.
    Verdict Convergence(const expr::Program& program, std::vector<CurveReport>* report = nullptr);

    // Stage 3: the fingerprint of the values (up to a constant) and gradients on the fixed
    // probes, in `fingerprint`; rejects (kNonFinite, kNonFiniteGradient) when a number there is
    // not finite.
    Verdict Equivalence(const expr::Program& program, Fingerprint* fingerprint);

    // All three stages in order, stopping at the first rejection.
    ScreenResult Screen(const expr::Formula& formula);

    // As Screen(), for a formula already compiled.
    ScreenResult Screen(const expr::Formula& formula, const expr::Program& program);

private:
    Verdict RunCurves(const expr::Program& program, const ConvergenceProbes& probes,
                      int curve_offset, std::vector<CurveReport>* report);

    expr::SetKind set_;
    const SetProbes& probes_;
    expr::Evaluator<float> float_evaluator_;
    expr::Evaluator<double> evaluator_;
    std::vector<double> row_loss_;
    std::vector<const ProbeBatch<double>*> fingerprint_batches_;
    std::vector<double> relative_values_;  // scratch of Equivalence()
};

}  // namespace autoloss::check
