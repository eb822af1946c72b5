#include "check/probes.h"

#include <cmath>
#include <cstdint>
#include <span>

#include "check/boxes.h"
#include "util/check.h"

namespace autoloss::check {

namespace {

using expr::SetKind;

// Input indices, as the primitive sets order them (expr/primitive_set.cpp).
constexpr int kMultiX = 0, kMultiY = 1, kMultiZ = 2;
constexpr int kBinaryX = 0, kBinaryQ = 1, kBinaryPy = 2, kBinaryNy = 3;
constexpr int kRegU = 0, kRegI = 1, kRegE = 2;

// Multi-class probes have three classes: two foreground classes and the background, last as in
// the release. Three, not two, so that Softmax and Dot see a real class dimension.
constexpr int kMultiClasses = 3;
constexpr int kBackground = kMultiClasses - 1;
// Binary probes have two columns: the element under test and a negative companion, so that
// Softmax over classes is not the constant 1.
constexpr int kBinaryClasses = 2;

ProbeBatch<double> EmptyBatch(SetKind set) {
    ProbeBatch<double> batch;
    batch.classes = set == SetKind::kClsMulti    ? kMultiClasses
                    : set == SetKind::kClsBinary ? kBinaryClasses
                                                 : 1;
    return batch;
}

// One multi-class row: logits `x`, one-hot target `target`, IoU weight `w` on every class (the
// release sets w = 1 on background rows).
void AddMultiRow(ProbeBatch<double>& batch, const std::array<double, kMultiClasses>& x, int target,
                 double w) {
    for (int c = 0; c < kMultiClasses; ++c) {
        batch.inputs[kMultiX].push_back(x[c]);
        batch.inputs[kMultiY].push_back(c == target ? 1.0 : 0.0);
        batch.inputs[kMultiZ].push_back(target == kBackground ? 1.0 : w);
    }
    ++batch.rows;
}

// One binary row of two elements: logits `x`, whether each is positive, and the positive's IoU.
void AddBinaryRow(ProbeBatch<double>& batch, const std::array<double, kBinaryClasses>& x,
                  const std::array<bool, kBinaryClasses>& positive, double q) {
    for (int c = 0; c < kBinaryClasses; ++c) {
        batch.inputs[kBinaryX].push_back(x[c]);
        batch.inputs[kBinaryQ].push_back(positive[c] ? q : 0.0);
        batch.inputs[kBinaryPy].push_back(positive[c] ? 1.0 : 0.0);
        batch.inputs[kBinaryNy].push_back(positive[c] ? 0.0 : 1.0);
    }
    ++batch.rows;
}

void AddRegRow(ProbeBatch<double>& batch, const Box& predicted, const Box& target) {
    const Overlap overlap = ComputeOverlap(predicted, target);
    batch.inputs[kRegU].push_back(overlap.union_area);
    batch.inputs[kRegI].push_back(overlap.intersection);
    batch.inputs[kRegE].push_back(overlap.enclosing);
    ++batch.rows;
}

ProbeBatch<float> ToFloat(const ProbeBatch<double>& batch) {
    ProbeBatch<float> result;
    result.rows = batch.rows;
    result.classes = batch.classes;
    for (int i = 0; i < expr::kMaxInputs; ++i) {
        result.inputs[i].assign(batch.inputs[i].begin(), batch.inputs[i].end());
    }
    return result;
}

void BuildValidity(SetKind set, SetProbes& probes) {
    ProbeBatch<double> batch = EmptyBatch(set);
    std::vector<int>& group = probes.validity_group;
    constexpr double kHigh = 20.0;
    if (set == SetKind::kClsMulti) {
        // Foreground rows with w = 1 and w = 0, then background rows; in each group the target
        // stays and the logits go through the corners.
        int next_group = 0;
        for (double w : {1.0, 0.0}) {
            for (const auto& x : {std::array<double, 3>{kHigh, -kHigh, -kHigh},
                                  std::array<double, 3>{-kHigh, kHigh, kHigh},
                                  std::array<double, 3>{0, 0, 0}}) {
                AddMultiRow(batch, x, 0, w);
                group.push_back(next_group);
            }
            ++next_group;
        }
        for (const auto& x : {std::array<double, 3>{kHigh, kHigh, -kHigh},
                              std::array<double, 3>{-kHigh, -kHigh, kHigh},
                              std::array<double, 3>{0, 0, 0}}) {
            AddMultiRow(batch, x, kBackground, 1.0);
            group.push_back(next_group);
        }
    } else if (set == SetKind::kClsBinary) {
        int next_group = 0;
        for (double q : {1.0, 0.0}) {
            for (const auto& x : {std::array<double, 2>{kHigh, -kHigh},
                                  std::array<double, 2>{-kHigh, kHigh},
                                  std::array<double, 2>{0, 0}}) {
                AddBinaryRow(batch, x, {true, false}, q);
                group.push_back(next_group);
            }
            ++next_group;
        }
        for (const auto& x : {std::array<double, 2>{kHigh, kHigh},
                              std::array<double, 2>{-kHigh, -kHigh},
                              std::array<double, 2>{0, 0}}) {
            AddBinaryRow(batch, x, {false, false}, 0.0);
            group.push_back(next_group);
        }
    } else {
        // Every box pair is a different prediction; one group.
        for (double side : {1e-2, 10.0, 1e4}) {
            const Box target = Square(side);
            AddRegRow(batch, target, target);                            // perfect overlap
            AddRegRow(batch, Shifted(target, side / 2, 0), target);      // partial
            AddRegRow(batch, Shifted(target, 3 * side, side), target);   // disjoint
            AddRegRow(batch, Scaled(target, 0.5, 0.5), target);          // inside the target
            AddRegRow(batch, Scaled(target, 2.0, 0.25), target);         // crossing it
            for (int k = 0; k < 5; ++k) {
                group.push_back(0);
            }
        }
    }
    probes.validity = ToFloat(batch);
}

// Classification curves: each is one row per score in kScoreGrid. In the multi-class set a
// `background` curve is a negative sample (target = background, w = 1 as in the release), whose
// positive score is the background logit; in the binary set a kNegative curve varies the logit
// of a negative element.
void AddScoreCurve(SetKind set, ProbeBatch<double>& batch, std::vector<Curve>& curves,
                   CurveKind kind, double weight, bool strict, bool background = false,
                   std::span<const double> grid = kScoreGrid) {
    Curve curve;
    curve.kind = kind;
    curve.first_row = batch.rows;
    curve.count = static_cast<int>(grid.size());
    curve.weight = background ? 1.0 : weight;
    curve.strict = strict;
    curve.test_class = background ? kBackground : 0;
    curve.params.assign(grid.begin(), grid.end());
    for (double s : grid) {
        if (set == SetKind::kClsMulti) {
            std::array<double, 3> x = {0, 0, 0};
            x[curve.test_class] = s;
            AddMultiRow(batch, x, curve.test_class, curve.weight);
        } else {
            AddBinaryRow(batch, {s, 0.0}, {kind == CurveKind::kPositive, false}, weight);
        }
    }
    curves.push_back(std::move(curve));
}

void BuildClsConvergence(SetKind set, SetProbes& probes) {
    // Tier 0: the strict curve (w or q = 1) on the coarse grid. Tier 1: the same on the full
    // grid, the other IoU values and the negatives.
    probes.convergence.resize(2);
    for (ConvergenceProbes& tier : probes.convergence) {
        tier.batch = EmptyBatch(set);
    }
    ConvergenceProbes& quick = probes.convergence[0];
    ConvergenceProbes& rest = probes.convergence[1];
    AddScoreCurve(set, quick.batch, quick.curves, CurveKind::kPositive, kIouGrid[0], true, false,
                  kQuickScoreGrid);
    AddScoreCurve(set, rest.batch, rest.curves, CurveKind::kPositive, kIouGrid[0], true);
    for (std::size_t k = 1; k < kIouGrid.size(); ++k) {
        const double w = kIouGrid[k];
        if (set == SetKind::kClsMulti) {
            // w weighs a positive row: every property holds for every w (CEI, CSE-Autoloss-A).
            AddScoreCurve(set, rest.batch, rest.curves, CurveKind::kPositive, w, true);
        } else {
            // q is the soft target of an IoU-aware binary loss (FLI's q = IoU·y); such a loss,
            // like CSE-Autoloss-B, is smallest near σ(s) = q and may rise beyond it, so the
            // properties in their strict form apply to q = 1 only, and for q < 1 the loss must
            // fall while the score is still below its target. Our choice; the paper reduces to
            // the binary setting without soft targets.
            AddScoreCurve(set, rest.batch, rest.curves, CurveKind::kPositive, w, false);
            rest.curves.back().monotone_until = std::log(w / (1 - w));
        }
    }
    if (set == SetKind::kClsMulti) {
        // A background row (negative sample): the background logit is its positive score.
        AddScoreCurve(set, rest.batch, rest.curves, CurveKind::kPositive, 1.0, true,
                      /*background=*/true);
    } else {
        AddScoreCurve(set, rest.batch, rest.curves, CurveKind::kNegative, 0.0, false);
    }
}

// Regression paths: each starts at perfect overlap (parameter 0 or 1) and moves away.
void AddPath(ProbeBatch<double>& batch, std::vector<Curve>& curves, CurveKind kind, double side,
             std::initializer_list<double> params) {
    Curve curve;
    curve.kind = kind;
    curve.first_row = batch.rows;
    curve.weight = side;
    curve.strict = true;
    const Box target = Square(side);
    for (double p : params) {
        Box predicted = target;
        switch (kind) {
            case CurveKind::kTranslation:
                predicted = Shifted(target, p * side, 0);
                break;
            case CurveKind::kDiagonal:
                predicted = Shifted(target, p * side, p * side);
                break;
            case CurveKind::kGrow:
                predicted = Scaled(target, p, p);
                break;
            case CurveKind::kShrink:
                predicted = Scaled(target, 1 / p, 1 / p);
                break;
            case CurveKind::kAspect:
                predicted = Scaled(target, p, 1 / p);
                break;
            default:
                AUTOLOSS_CHECK(false, "not a regression path");
        }
        AddRegRow(batch, predicted, target);
        curve.params.push_back(p);
    }
    curve.count = static_cast<int>(curve.params.size());
    curves.push_back(std::move(curve));
}

// Shifts (in sides) past the edge of the target, where IoU is 0 but GIoU still rises.
constexpr std::initializer_list<double> kShifts = {0,   0.05, 0.1, 0.2, 0.35, 0.5,
                                                   0.75, 1.0, 1.5, 2.0, 3.0};
constexpr std::initializer_list<double> kFactors = {1, 1.1, 1.25, 1.5, 2, 3, 4};

// Perfect overlap first, then predictions off in several ways at once, none of which may score
// better.
void AddScatter(ProbeBatch<double>& batch, std::vector<Curve>& curves, double side) {
    Curve scatter;
    scatter.kind = CurveKind::kScatter;
    scatter.first_row = batch.rows;
    scatter.weight = side;
    const Box target = Square(side);
    AddRegRow(batch, target, target);
    scatter.params.push_back(0);
    int index = 1;
    for (double shift : {0.1, -0.3, 0.6}) {
        for (double scale : {0.7, 1.3}) {
            for (double aspect : {0.8, 1.5}) {
                AddRegRow(batch,
                          Scaled(Shifted(target, shift * side, -shift * side / 2),
                                 scale * aspect, scale / aspect),
                          target);
                scatter.params.push_back(index++);
            }
        }
    }
    scatter.count = static_cast<int>(scatter.params.size());
    curves.push_back(std::move(scatter));
}

void BuildRegConvergence(SetProbes& probes) {
    // Tier 0: translation, growth and shrinking of the medium box (most random formulas fall or
    // stay flat along one of them). Tier 1: its diagonal, aspect and mixed predictions. Tier 2:
    // everything again for the small and the large box.
    probes.convergence.resize(3);
    for (ConvergenceProbes& tier : probes.convergence) {
        tier.batch = EmptyBatch(SetKind::kReg);
    }
    auto add_paths = [](ConvergenceProbes& tier, double side, bool first, bool second) {
        if (first) {
            AddPath(tier.batch, tier.curves, CurveKind::kTranslation, side, kShifts);
            AddPath(tier.batch, tier.curves, CurveKind::kGrow, side, kFactors);
            AddPath(tier.batch, tier.curves, CurveKind::kShrink, side, kFactors);
        }
        if (second) {
            AddPath(tier.batch, tier.curves, CurveKind::kDiagonal, side, kShifts);
            AddPath(tier.batch, tier.curves, CurveKind::kAspect, side, kFactors);
            AddPath(tier.batch, tier.curves, CurveKind::kAspect, side,
                    {1, 1 / 1.25, 1 / 1.5, 1 / 2.0, 1 / 4.0});
            tier.curves.back().params = {1, 1.25, 1.5, 2, 4};  // the distance, not the factor
            AddScatter(tier.batch, tier.curves, side);
        }
    };
    add_paths(probes.convergence[0], kBoxSides[1], true, false);
    add_paths(probes.convergence[1], kBoxSides[1], false, true);
    add_paths(probes.convergence[2], kBoxSides[0], true, true);
    add_paths(probes.convergence[2], kBoxSides[2], true, true);
}

// A fixed 64-bit generator for the fingerprint probes (SplitMix64), so they never depend on a
// library's random engine.
class FixedRandom {
public:
    double Uniform(double low, double high) {
        state_ += 0x9e3779b97f4a7c15ull;
        std::uint64_t z = state_;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        return low + (high - low) * static_cast<double>(z >> 11) * 0x1.0p-53;
    }

private:
    std::uint64_t state_ = 20210503;
};

void BuildFingerprint(SetKind set, SetProbes& probes) {
    FixedRandom random;
    // Enough rows that two different formulas agreeing on all of them by chance is negligible,
    // few enough to stay cheap: a formula is compared through values and gradients together.
    constexpr int kRows = 12;
    if (set == SetKind::kReg) {
        // Box sides log-uniform over [0.5, 500] pixels, so saturating functions of an area
        // (Sig(U), Exp(E)) are probed where they still vary.
        ProbeBatch<double> batch = EmptyBatch(set);
        for (int r = 0; r < 2 * kRows; ++r) {
            const double side = 0.5 * std::pow(1000.0, random.Uniform(0, 1));
            const Box target = Square(side);
            const Box predicted =
                Scaled(Shifted(target, random.Uniform(-1.5, 1.5) * side,
                               random.Uniform(-1.5, 1.5) * side),
                       random.Uniform(0.5, 2.0), random.Uniform(0.5, 2.0));
            AddRegRow(batch, predicted, target);
        }
        probes.fingerprint.push_back(std::move(batch));
        return;
    }
    for (int classes : {3, 5}) {
        ProbeBatch<double> batch;
        batch.classes = classes;
        for (int r = 0; r < kRows; ++r) {
            // Multi-class: one-hot target (background last), w = IoU on foreground rows and 1 on
            // background rows. Binary: each element positive with probability 1/3, q = IoU.
            const int target = r % classes;
            const double iou = random.Uniform(0.05, 1.0);
            for (int c = 0; c < classes; ++c) {
                // Logits over [-8, 8], so that kinks (Relu of a shifted logit) are crossed.
                batch.inputs[0].push_back(random.Uniform(-8, 8));
                if (set == SetKind::kClsMulti) {
                    batch.inputs[kMultiY].push_back(c == target ? 1.0 : 0.0);
                    batch.inputs[kMultiZ].push_back(target == classes - 1 ? 1.0 : iou);
                } else {
                    const bool positive = random.Uniform(0, 3) < 1;
                    batch.inputs[kBinaryQ].push_back(positive ? iou : 0.0);
                    batch.inputs[kBinaryPy].push_back(positive ? 1.0 : 0.0);
                    batch.inputs[kBinaryNy].push_back(positive ? 0.0 : 1.0);
                }
            }
            ++batch.rows;
        }
        probes.fingerprint.push_back(std::move(batch));
    }
}

SetProbes Build(SetKind set) {
    SetProbes probes;
    BuildValidity(set, probes);
    if (set == SetKind::kReg) {
        BuildRegConvergence(probes);
    } else {
        BuildClsConvergence(set, probes);
    }
    BuildFingerprint(set, probes);
    return probes;
}

}  // namespace

template <typename T>
expr::Batch<T> ProbeBatch<T>::View() const {
    expr::Batch<T> batch;
    batch.rows = rows;
    batch.classes = classes;
    for (int i = 0; i < expr::kMaxInputs; ++i) {
        batch.inputs[i] = inputs[i].empty() ? nullptr : inputs[i].data();
    }
    return batch;
}

template struct ProbeBatch<float>;
template struct ProbeBatch<double>;

const SetProbes& Probes(SetKind set) {
    static const SetProbes multi = Build(SetKind::kClsMulti);
    static const SetProbes binary = Build(SetKind::kClsBinary);
    static const SetProbes reg = Build(SetKind::kReg);
    switch (set) {
        case SetKind::kClsMulti:
            return multi;
        case SetKind::kClsBinary:
            return binary;
        case SetKind::kReg:
            return reg;
    }
    return multi;
}

}  // namespace autoloss::check
