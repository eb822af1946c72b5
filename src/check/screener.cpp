#include "check/screener.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "util/check.h"

namespace autoloss::check {

namespace {

using expr::SetKind;

// The prediction's inputs: the logits X (index 0 in both classification sets); every
// regression input (U, I and E all move with the predicted box).
bool ReadsPrediction(const expr::Formula& formula) {
    if (formula.set() != SetKind::kReg) {
        return formula.Uses(0);
    }
    return formula.Uses(0) || formula.Uses(1) || formula.Uses(2);
}

// Per-row loss: the binary set's per-element losses summed over the row, so a row is one
// sample of the binary reduction (its gradient is what Backward() returns).
template <typename T>
void RowLoss(std::span<const T> output, int rows, int classes, bool per_element,
             std::vector<double>& row_loss) {
    row_loss.assign(rows, 0.0);
    if (!per_element) {
        for (int r = 0; r < rows; ++r) {
            row_loss[r] = output[r];
        }
        return;
    }
    for (int r = 0; r < rows; ++r) {
        for (int c = 0; c < classes; ++c) {
            row_loss[r] += output[static_cast<std::size_t>(r) * classes + c];
        }
    }
}

Verdict Reject(Reason reason, int curve, double at, double weight, double before, double after,
               bool on_gradient = false) {
    Verdict verdict;
    verdict.reason = reason;
    verdict.curve = curve;
    verdict.at = at;
    verdict.weight = weight;
    verdict.before = before;
    verdict.after = after;
    verdict.on_gradient = on_gradient;
    return verdict;
}

double MaxAbs(std::span<const double> values) {
    double peak = 0.0;
    for (double v : values) {
        peak = std::max(peak, std::abs(v));
    }
    return peak;
}

// The checks of one classification curve that need only its rows' losses: monotonicity of the
// values, a strict curve's overall fall, and the secant slope of its tail (which catastrophic
// cancellation inside a gradient, 1e40 - 1e40 through Sub(X,X), cannot fake). Run before any
// gradient is computed, so most candidates leave without a backward pass.
Verdict CheckScoreValues(const Curve& curve, int index, std::span<const double> loss) {
    const int n = curve.count;
    const bool positive = curve.kind == CurveKind::kPositive;
    for (int k = 0; k + 1 < n; ++k) {
        // Local tolerance: rounding noise is relative to the numbers at hand, and a loss that is
        // huge somewhere on the curve must not hide a real rise elsewhere.
        const double tol =
            kValueTolerance * (1 + std::max(std::abs(loss[k]), std::abs(loss[k + 1])));
        if (positive && curve.params[k + 1] <= curve.monotone_until &&
            loss[k + 1] > loss[k] + tol) {
            return Reject(Reason::kRisesWithPositiveScore, index, curve.params[k + 1],
                          curve.weight, loss[k], loss[k + 1]);
        }
        if (!positive && loss[k + 1] < loss[k] - tol) {
            return Reject(Reason::kFallsWithNegativeScore, index, curve.params[k + 1],
                          curve.weight, loss[k], loss[k + 1]);
        }
    }
    if (!curve.strict) {
        return Verdict{};
    }
    if (loss[0] - loss[n - 1] <= kValueTolerance * (1 + MaxAbs(loss))) {
        return Reject(Reason::kFlatInPositiveScore, index, curve.params[n - 1], curve.weight,
                      loss[0], loss[n - 1]);
    }
    double peak_slope = 0;
    for (int k = 0; k + 1 < n; ++k) {
        peak_slope = std::max(peak_slope, std::abs(loss[k + 1] - loss[k]) /
                                              (curve.params[k + 1] - curve.params[k]));
    }
    const double tail_slope =
        std::abs(loss[n - 1] - loss[n - 2]) / (curve.params[n - 1] - curve.params[n - 2]);
    const double slope_bound = std::max(kTailRatio * peak_slope, kTailFloor);
    if (tail_slope > slope_bound) {
        return Reject(Reason::kGradientDoesNotVanish, index, curve.params[n - 1], curve.weight,
                      tail_slope, slope_bound, true);
    }
    return Verdict{};
}

// The checks of one classification curve on its gradients with respect to the logits
// (`grad`: [count, classes]): finite, signed right for the varied score and for every negative
// class, and (strict curves) vanishing at the end of the grid.
Verdict CheckScoreGradients(const Curve& curve, int index, std::span<const double> grad,
                            int classes) {
    const int n = curve.count;
    const int t = curve.test_class;
    AUTOLOSS_CHECK(n <= static_cast<int>(kScoreGrid.size()), "score curve longer than the grid");
    std::array<double, kScoreGrid.size()> g{};
    std::array<double, kScoreGrid.size()> tol{};
    double peak = 0;
    for (int k = 0; k < n; ++k) {
        double row_scale = 0;
        for (int c = 0; c < classes; ++c) {
            const double value = grad[static_cast<std::size_t>(k) * classes + c];
            if (!std::isfinite(value)) {
                return Reject(Reason::kNonFiniteGradient, index, curve.params[k], curve.weight,
                              value, 0.0, true);
            }
            row_scale = std::max(row_scale, std::abs(value));
        }
        g[k] = grad[static_cast<std::size_t>(k) * classes + t];
        tol[k] = kGradientTolerance * (1 + row_scale);
        peak = std::max(peak, std::abs(g[k]));
    }
    const bool positive = curve.kind == CurveKind::kPositive;
    for (int k = 0; k < n; ++k) {
        if (positive && curve.params[k] <= curve.monotone_until && g[k] > tol[k]) {
            return Reject(Reason::kRisesWithPositiveScore, index, curve.params[k], curve.weight,
                          g[k], 0.0, true);
        }
        if (!positive && g[k] < -tol[k]) {
            return Reject(Reason::kFallsWithNegativeScore, index, curve.params[k], curve.weight,
                          g[k], 0.0, true);
        }
        // Every other column of the row is a negative class: the loss must not fall as its
        // score rises.
        for (int c = 0; c < classes; ++c) {
            const double h = grad[static_cast<std::size_t>(k) * classes + c];
            if (c != t && h < -tol[k]) {
                return Reject(Reason::kFallsWithNegativeScore, index, curve.params[k],
                              curve.weight, h, 0.0, true);
            }
        }
    }
    if (!curve.strict) {
        return Verdict{};
    }
    const double tail = std::abs(g[n - 1]);
    const double bound = std::max(kTailRatio * peak, kTailFloor);
    const double rising = std::abs(g[n - 2]) + tol[n - 1];
    if (tail > bound || tail > rising) {
        return Reject(Reason::kGradientDoesNotVanish, index, curve.params[n - 1], curve.weight,
                      tail, std::min(bound, rising), true);
    }
    return Verdict{};
}

Reason FallReason(CurveKind kind) {
    switch (kind) {
        case CurveKind::kTranslation:
        case CurveKind::kDiagonal:
            return Reason::kFallsWithTranslation;
        case CurveKind::kGrow:
        case CurveKind::kShrink:
            return Reason::kFallsWithScaling;
        default:
            return Reason::kFallsWithAspect;
    }
}

// Checks one regression path (or the scatter of mixed predictions); row 0 is perfect overlap.
Verdict CheckPath(const Curve& curve, int index, std::span<const double> loss) {
    const int n = curve.count;
    auto tol = [&](int a, int b) {
        return kValueTolerance * (1 + std::max(std::abs(loss[a]), std::abs(loss[b])));
    };
    if (curve.kind == CurveKind::kScatter) {
        for (int k = 1; k < n; ++k) {
            if (loss[k] < loss[0] - tol(0, k)) {
                return Reject(Reason::kNotMinimalAtOverlap, index, curve.params[k], curve.weight,
                              loss[0], loss[k]);
            }
        }
        return Verdict{};
    }
    for (int k = 0; k + 1 < n; ++k) {
        if (loss[k + 1] < loss[k] - tol(k, k + 1)) {
            return Reject(FallReason(curve.kind), index, curve.params[k + 1], curve.weight,
                          loss[k], loss[k + 1]);
        }
    }
    if (loss[n - 1] - loss[0] <= kValueTolerance * (1 + MaxAbs(loss))) {
        return Reject(Reason::kFlatWithDistance, index, curve.params[n - 1], curve.weight,
                      loss[0], loss[n - 1]);
    }
    return Verdict{};
}

}  // namespace

Screener::Screener(SetKind set) : set_(set), probes_(Probes(set)) {}

Verdict Screener::Validity(const expr::Formula& formula, const expr::Program& program) {
    if (!ReadsPrediction(formula)) {
        return Reject(Reason::kIgnoresPrediction, -1, 0.0, 0.0, 0.0, 0.0);
    }
    const ProbeBatch<float>& batch = probes_.validity;
    const auto output = float_evaluator_.Forward(program, batch.View());
    for (std::size_t i = 0; i < output.size(); ++i) {
        if (!std::isfinite(output[i])) {
            const int row = static_cast<int>(set_ == SetKind::kClsBinary ? i / batch.classes : i);
            return Reject(Reason::kNonFinite, row, 0.0, 0.0, output[i], 0.0);
        }
    }
    RowLoss(output, batch.rows, batch.classes, set_ == SetKind::kClsBinary, row_loss_);
    const std::vector<int>& group = probes_.validity_group;
    // Rows of a group are contiguous: compare each with the group's first row.
    int first = 0;
    for (int r = 1; r < batch.rows; ++r) {
        if (group[r] != group[first]) {
            first = r;
            continue;
        }
        const double a = row_loss_[first];
        if (std::abs(row_loss_[r] - a) > kSameValue * (1 + std::abs(a))) {
            return Verdict{};
        }
    }
    return Reject(Reason::kIgnoresPrediction, -1, 0.0, 0.0, row_loss_.empty() ? 0.0 : row_loss_[0],
                  0.0);
}

Verdict Screener::RunCurves(const expr::Program& program, const ConvergenceProbes& probes,
                            int curve_offset, std::vector<CurveReport>* report) {
    const ProbeBatch<double>& batch = probes.batch;
    const expr::Batch<double> view = batch.View();
    const auto output = evaluator_.Forward(program, view);
    RowLoss(output, batch.rows, batch.classes, set_ == SetKind::kClsBinary, row_loss_);
    auto loss_of = [&](const Curve& curve) {
        return std::span<const double>(row_loss_.data() + curve.first_row, curve.count);
    };
    Verdict first_failure;
    auto fail = [&](const Verdict& verdict) {
        if (!verdict.passed() && first_failure.passed()) {
            first_failure = verdict;
        }
    };
    if (set_ == SetKind::kReg) {
        for (std::size_t k = 0; k < probes.curves.size(); ++k) {
            const Curve& curve = probes.curves[k];
            fail(CheckPath(curve, curve_offset + static_cast<int>(k), loss_of(curve)));
            if (report != nullptr) {
                const auto loss = loss_of(curve);
                report->push_back(CurveReport{curve, {loss.begin(), loss.end()}, {}});
            } else if (!first_failure.passed()) {
                return first_failure;
            }
        }
        return first_failure;
    }
    // Classification: every curve's value checks first, then one backward pass for the rest.
    for (std::size_t k = 0; k < probes.curves.size(); ++k) {
        const Curve& curve = probes.curves[k];
        fail(CheckScoreValues(curve, curve_offset + static_cast<int>(k), loss_of(curve)));
        if (report == nullptr && !first_failure.passed()) {
            return first_failure;
        }
    }
    const auto gradient = evaluator_.Backward(program, view, 0);
    for (std::size_t k = 0; k < probes.curves.size(); ++k) {
        const Curve& curve = probes.curves[k];
        const std::size_t offset = static_cast<std::size_t>(curve.first_row) * batch.classes;
        const std::span<const double> grad(gradient.data() + offset,
                                           static_cast<std::size_t>(curve.count) * batch.classes);
        const Verdict verdict =
            CheckScoreGradients(curve, curve_offset + static_cast<int>(k), grad, batch.classes);
        if (report != nullptr) {
            const auto loss = loss_of(curve);
            CurveReport entry{curve, {loss.begin(), loss.end()}, {}};
            for (int i = 0; i < curve.count; ++i) {
                entry.gradients.push_back(
                    grad[static_cast<std::size_t>(i) * batch.classes + curve.test_class]);
            }
            report->push_back(std::move(entry));
        }
        // A value failure of any curve comes before gradient failures (the order the search
        // sees them in).
        fail(verdict);
        if (report == nullptr && !first_failure.passed()) {
            return first_failure;
        }
    }
    return first_failure;
}

Verdict Screener::Convergence(const expr::Program& program, std::vector<CurveReport>* report) {
    Verdict first_failure;
    int curve_offset = 0;
    for (const ConvergenceProbes& tier : probes_.convergence) {
        const Verdict verdict = RunCurves(program, tier, curve_offset, report);
        if (!verdict.passed() && first_failure.passed()) {
            first_failure = verdict;
            if (report == nullptr) {
                return first_failure;
            }
        }
        curve_offset += static_cast<int>(tier.curves.size());
    }
    return first_failure;
}

Verdict Screener::Equivalence(const expr::Program& program, Fingerprint* fingerprint) {
    FingerprintBuilder builder(static_cast<std::uint64_t>(set_));
    // Gradients with respect to the prediction's inputs: the logits, or U, I and E.
    const int gradient_inputs = set_ == SetKind::kReg ? 3 : 1;
    // The fingerprint's own pseudo-random probes, then the classification curves, whose
    // corners (s = ±20, q = 1) separate functions that differ only there. Regression adds only
    // its first tier: its random box pairs already span sizes and distances, and its later
    // tiers are large.
    std::vector<const ProbeBatch<double>*>& batches = fingerprint_batches_;
    if (batches.empty()) {
        for (const ProbeBatch<double>& batch : probes_.fingerprint) {
            batches.push_back(&batch);
        }
        for (const ConvergenceProbes& tier : probes_.convergence) {
            batches.push_back(&tier.batch);
            if (set_ == SetKind::kReg) {
                break;
            }
        }
    }
    for (const ProbeBatch<double>* probe : batches) {
        const ProbeBatch<double>& batch = *probe;
        const expr::Batch<double> view = batch.View();
        const auto values = evaluator_.Forward(program, view);
        for (double value : values) {
            if (!std::isfinite(value)) {
                return Reject(Reason::kNonFinite, -1, 0.0, 0.0, value, 0.0);
            }
        }
        // A constant added to a loss changes no gradient, so values enter relative to the
        // batch's first: GIoU and GIoU + 1 share a class and train once.
        relative_values_.assign(values.begin(), values.end());
        for (double& value : relative_values_) {
            value -= values[0];
        }
        builder.AddGroup(relative_values_);
        for (int input = 0; input < gradient_inputs; ++input) {
            const auto gradient = evaluator_.Backward(program, view, input);
            for (double value : gradient) {
                if (!std::isfinite(value)) {
                    return Reject(Reason::kNonFiniteGradient, -1, 0.0, 0.0, value, 0.0, true);
                }
            }
            builder.AddGroup(gradient);
        }
    }
    *fingerprint = builder.Get();
    return Verdict{};
}

ScreenResult Screener::Screen(const expr::Formula& formula) {
    return Screen(formula, expr::Program(formula));
}

ScreenResult Screener::Screen(const expr::Formula& formula, const expr::Program& program) {
    ScreenResult result;
    result.stage = Stage::kValidity;
    result.verdict = Validity(formula, program);
    if (!result.verdict.passed()) {
        return result;
    }
    result.stage = Stage::kConvergence;
    result.verdict = Convergence(program);
    if (!result.verdict.passed()) {
        return result;
    }
    result.stage = Stage::kEquivalence;
    result.verdict = Equivalence(program, &result.fingerprint);
    return result;
}

}  // namespace autoloss::check
