#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "expr/primitive_set.h"

namespace autoloss::check {

// The cheap screening stages, cheapest first; a candidate meets them in this order and stops at
// the first that rejects it.
enum class Stage : std::uint8_t {
    kValidity,     // finite values on probe inputs with the hard corners, depends on the prediction
    kConvergence,  // the convergence properties of SPEC.md §3 2b
    kEquivalence,  // fingerprint of values and gradients (also rejects non-finite gradients)
};

// Why a stage rejected a candidate; kNone when it passed. The codes are stable: they are written
// to search records and printed by the CLI.
enum class Reason : std::uint8_t {
    kNone,
    kIgnoresPrediction,       // value does not depend on the prediction (logits or box)
    kNonFinite,               // NaN or ±inf value on a validity probe
    kNonFiniteGradient,       // NaN or ±inf gradient on a convergence or fingerprint probe
    kRisesWithPositiveScore,  // cls: loss rises somewhere as the positive score rises
    kFlatInPositiveScore,     // cls: loss does not fall at all over the positive-score grid
    kFallsWithNegativeScore,  // cls: loss falls as a negative-class score rises
    kGradientDoesNotVanish,   // cls: |dL/ds| does not tend to 0 as s grows
    kNotMinimalAtOverlap,     // reg: some box is scored below the perfectly overlapping one
    kFallsWithTranslation,    // reg: loss falls as the box moves away from its target
    kFallsWithScaling,        // reg: loss falls as the box grows or shrinks away from its target
    kFallsWithAspect,   // reg: loss falls as the box's aspect ratio moves away from the target's
    kFlatWithDistance,  // reg: loss does not rise at all along a path away from the target
};

inline constexpr int kReasonCount = static_cast<int>(Reason::kFlatWithDistance) + 1;

// Snake-case code of `reason`, e.g. "rises_with_positive_score"; "none" for kNone.
std::string_view ReasonCode(Reason reason);

// The reason whose code is `code`, or nullopt.
std::optional<Reason> FindReason(std::string_view code);

// Lowercase name of `stage`: "validity", "convergence", "equivalence".
std::string_view StageName(Stage stage);

// One stage's outcome with the numbers behind a rejection. Plain data, so the hot screening loop
// never formats text; Describe() makes the sentence when someone wants to read it.
struct Verdict {
    Reason reason = Reason::kNone;
    // Where it broke. For classification curves: `at` is the score s, `weight` the IoU w (or q),
    // `curve` the curve index of the stage's probe set. For regression paths: `at` is the path
    // parameter (shift in box sides, scale or aspect factor), `weight` the target box side.
    // For validity: `curve` is the probe row. -1 / NaN where not applicable.
    int curve = -1;
    double at = 0.0;
    double weight = 0.0;
    // The offending numbers: the two loss values that broke monotonicity (before < after for a
    // rise), or the gradient and the bound it broke (`before` = |dL/ds| at the tail, `after` =
    // the bound), or the non-finite value.
    double before = 0.0;
    double after = 0.0;
    // Whether `before`/`after` are gradients (dL/ds and its bound) rather than loss values.
    bool on_gradient = false;

    bool passed() const { return reason == Reason::kNone; }
};

// A sentence explaining `verdict` for a formula of `set`, e.g.
// "loss rises with the positive score: L(s=2) = 0.31 < L(s=4) = 0.52 (w = 1)".
std::string Describe(const Verdict& verdict, expr::SetKind set);

}  // namespace autoloss::check
