#include "check/verdict.h"

#include <array>
#include <cstdio>

namespace autoloss::check {

namespace {

constexpr std::array<std::string_view, kReasonCount> kCodes = {
    "none",
    "ignores_prediction",
    "non_finite",
    "non_finite_gradient",
    "rises_with_positive_score",
    "flat_in_positive_score",
    "falls_with_negative_score",
    "gradient_does_not_vanish",
    "not_minimal_at_overlap",
    "falls_with_translation",
    "falls_with_scaling",
    "falls_with_aspect",
    "flat_with_distance",
};

std::string Format(const char* format, double a, double b, double c, double d) {
    char text[256];
    std::snprintf(text, sizeof(text), format, a, b, c, d);
    return text;
}

}  // namespace

std::string_view ReasonCode(Reason reason) {
    const auto index = static_cast<std::size_t>(reason);
    return index < kCodes.size() ? kCodes[index] : std::string_view("unknown");
}

std::optional<Reason> FindReason(std::string_view code) {
    for (int i = 0; i < kReasonCount; ++i) {
        if (kCodes[i] == code) {
            return static_cast<Reason>(i);
        }
    }
    return std::nullopt;
}

std::string_view StageName(Stage stage) {
    switch (stage) {
        case Stage::kValidity:
            return "validity";
        case Stage::kConvergence:
            return "convergence";
        case Stage::kEquivalence:
            return "equivalence";
    }
    return "validity";
}

std::string Describe(const Verdict& v, expr::SetKind set) {
    const char* weight_name = set == expr::SetKind::kClsBinary ? "q" : "w";
    switch (v.reason) {
        case Reason::kNone:
            return "passed";
        case Reason::kIgnoresPrediction:
            return "the loss does not depend on the prediction";
        case Reason::kNonFinite:
            return v.curve < 0
                       ? Format("non-finite loss %g on a fingerprint probe", v.before, 0, 0, 0)
                       : Format("non-finite loss %g on validity probe row %.0f",
                                v.before,
                                v.curve,
                                0,
                                0);
        case Reason::kNonFiniteGradient: {
            if (v.curve < 0) {
                return Format("non-finite gradient %g on a fingerprint probe", v.before, 0, 0, 0);
            }
            char text[160];
            std::snprintf(text,
                          sizeof(text),
                          "non-finite gradient %g at s = %g (%s = %g)",
                          v.before,
                          v.at,
                          weight_name,
                          v.weight);
            return text;
        }
        case Reason::kRisesWithPositiveScore:
        case Reason::kFallsWithNegativeScore: {
            const bool rises = v.reason == Reason::kRisesWithPositiveScore;
            std::string text = rises ? "loss rises with the positive score"
                                     : "loss falls as a negative-class score rises";
            char detail[160];
            if (v.on_gradient) {
                std::snprintf(detail,
                              sizeof(detail),
                              ": dL/ds = %.6g at s = %g (%s = %g)",
                              v.before,
                              v.at,
                              weight_name,
                              v.weight);
            } else {
                std::snprintf(detail,
                              sizeof(detail),
                              ": L = %.6g before s = %g, %.6g there (%s = %g)",
                              v.before,
                              v.at,
                              v.after,
                              weight_name,
                              v.weight);
            }
            return text + detail;
        }
        case Reason::kFlatInPositiveScore:
            return Format(
                "loss does not fall with the positive score: L(s=-20) = %.6g, "
                "L(s=%g) = %.6g (w = %g)",
                v.before,
                v.at,
                v.after,
                v.weight);
        case Reason::kGradientDoesNotVanish:
            return Format("|dL/ds| does not vanish: %.6g at s = %g, bound %.6g (w = %g)",
                          v.before,
                          v.at,
                          v.after,
                          v.weight);
        case Reason::kNotMinimalAtOverlap:
            return Format(
                "a box off the target scores %.6g, below perfect overlap's %.6g "
                "(scatter probe %g, side %g)",
                v.after,
                v.before,
                v.at,
                v.weight);
        case Reason::kFallsWithTranslation:
        case Reason::kFallsWithScaling:
        case Reason::kFallsWithAspect: {
            const char* path = v.reason == Reason::kFallsWithTranslation ? "moves away (shift"
                               : v.reason == Reason::kFallsWithScaling   ? "is scaled (factor"
                                                                         : "changes aspect (factor";
            char text[200];
            std::snprintf(text,
                          sizeof(text),
                          "loss falls as the box %s %g): %.6g before, %.6g there (side %g)",
                          path,
                          v.at,
                          v.before,
                          v.after,
                          v.weight);
            return text;
        }
        case Reason::kFlatWithDistance:
            return Format(
                "loss does not rise away from the target: %.6g at overlap, %.6g at "
                "distance %g (side %g)",
                v.before,
                v.after,
                v.at,
                v.weight);
    }
    return std::string(ReasonCode(v.reason));
}

}  // namespace autoloss::check
