#pragma once

#include <array>
#include <limits>
#include <vector>

#include "expr/evaluate.h"
#include "expr/primitive_set.h"

namespace autoloss::check {

// Owned input arrays of a probe batch, row-major like expr::Batch: [rows, classes] for the
// classification sets, [rows] for regression. Inputs a set does not have stay empty.
template <typename T>
struct ProbeBatch {
    int rows = 0;
    int classes = 1;
    std::array<std::vector<T>, expr::kMaxInputs> inputs;

    // A borrowing view for the evaluator; valid while this batch lives.
    expr::Batch<T> View() const;
};

// What changes along a curve of probe rows.
enum class CurveKind : std::uint8_t {
    kPositive,     // cls: the target class's logit s rises; the loss must fall
    kNegative,     // cls (binary): a negative element's logit rises; the loss must rise
    kTranslation,  // reg: the box moves right by `params` box sides
    kDiagonal,     // reg: the box moves right and down by `params` box sides
    kGrow,         // reg: the box grows by factor `params` about its centre
    kShrink,       // reg: the box shrinks by factor `params` about its centre
    kAspect,       // reg: width times `params`, height divided by it (area kept)
    kScatter,      // reg: mixed shifts, scales and aspects, none better than a perfect overlap
};

// Consecutive rows of a probe batch along which one quantity changes, in increasing order.
struct Curve {
    CurveKind kind = CurveKind::kPositive;
    int first_row = 0;
    int count = 0;
    // cls: the column whose logit varies; every other column of the row is a negative class.
    int test_class = 0;
    // cls: the IoU w (multi-class) or soft target q (binary); reg: the target box's side.
    double weight = 1.0;
    // cls: whether the loss must fall overall along the curve and |dL/ds| must vanish at its end.
    bool strict = false;
    // cls: monotonicity is required only for s up to here (a soft target q < 1 is met at
    // s = logit(q); beyond it an IoU-aware loss may rise again).
    double monotone_until = std::numeric_limits<double>::infinity();
    // The varying quantity per row: the score s, or the path parameter.
    std::vector<double> params;
};

// Probe rows for the convergence stage, in double precision, with the curves they form.
struct ConvergenceProbes {
    ProbeBatch<double> batch;
    std::vector<Curve> curves;
};

// Every fixed probe input of one primitive set. Built once per set and shared read-only across
// threads.
struct SetProbes {
    // Validity probes in float, the precision detectors train in, so a loss that overflows in
    // float training is rejected. The hard corners: logits at -20, 0 and +20, IoU 0 and 1,
    // background and foreground targets; boxes of side 0.01, 10 and 10^4 in perfect, partial,
    // nested and disjoint overlap.
    ProbeBatch<float> validity;
    // validity_group[row]: rows of one group share every target and differ only in the
    // prediction; a loss equal on every row of every group ignores the prediction.
    std::vector<int> validity_group;
    // The convergence curves in tiers, cheapest and most often failed first: a candidate meets
    // a tier only when it passed the ones before, so most leave after the first few rows.
    std::vector<ConvergenceProbes> convergence;
    // Fixed pseudo-random probes inside the input domain for the equivalence fingerprint. The
    // classification sets get two batches with different class counts, so that formulas that
    // agree only at one class count (Dot(1,1) is 3 with three classes, 81 on COCO) stay apart.
    std::vector<ProbeBatch<double>> fingerprint;
};

// The score grid of the classification curves: s from -20 to +20, denser near 0.
inline constexpr std::array<double, 15> kScoreGrid = {
    -20, -12, -8, -5, -3, -2, -1, 0, 1, 2, 3, 5, 8, 12, 20};

// The coarse grid of the first tier's strict curve: most candidates fail there, so it is kept
// short; those that pass meet the full grid in the next tier.
inline constexpr std::array<double, 9> kQuickScoreGrid = {-20, -8, -3, -1, 0, 1, 3, 8, 20};

// IoU values w (multi-class) and soft targets q (binary) of the positive curves; the first is
// the strict one tried in the quick phase.
inline constexpr std::array<double, 3> kIouGrid = {1.0, 0.5, 0.1};

// Target box sides of the regression paths, in pixels: small, medium and large objects.
inline constexpr std::array<double, 3> kBoxSides = {4.0, 32.0, 256.0};

// The probes of `set` (built on first use, thread-safe).
const SetProbes& Probes(expr::SetKind set);

}  // namespace autoloss::check
