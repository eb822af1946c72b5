#pragma once

#include <bitset>
#include <optional>
#include <span>
#include <string_view>

#include "expr/op.h"

namespace autoloss::expr {

// The three search spaces of SPEC.md §1, one per loss branch.
enum class SetKind : std::uint8_t {
    kClsMulti,   // two-stage classification: X, Y, Z of shape [B, C+1]
    kClsBinary,  // one-stage classification: X, Q, PY, NY of shape [N, C]
    kReg,        // box regression: U, I, E of shape [N]
};

// How much of the [rows, classes] grid a value spans; smaller extents broadcast to larger ones.
enum class Extent : std::uint8_t {
    kScalar,  // one value for the whole batch
    kRow,     // one value per row (sample), shape [rows]
    kFull,    // one value per (row, class), shape [rows, classes]
};

// One input of a primitive set.
struct InputInfo {
    std::string_view name;    // the release's name, e.g. "PY"
    std::string_view letter;  // the paper's letter used by the readable form, e.g. "y"
    std::string_view latex;   // LaTeX for the readable form, e.g. "\\bar{y}"
    std::string_view meaning;
};

// Inputs and allowed operators of one search space.
class PrimitiveSet {
  public:
    // The set of `kind`; the three sets are immutable singletons.
    static const PrimitiveSet& Get(SetKind kind);

    // Parses "cls-multi", "cls-binary" or "reg"; nullopt for anything else.
    static std::optional<SetKind> ParseKind(std::string_view text);

    SetKind kind() const { return kind_; }
    std::string_view name() const { return name_; }
    std::span<const InputInfo> inputs() const { return inputs_; }

    // Extent of every input: kFull for the classification sets, kRow for regression.
    Extent input_extent() const { return kind_ == SetKind::kReg ? Extent::kRow : Extent::kFull; }

    // Extent of the per-sample loss the set produces: [B] for multi-class (a class-wise result
    // is summed over classes), [N, C] for binary (every pair is a sample), [N] for regression.
    Extent output_extent() const {
        return kind_ == SetKind::kClsBinary ? Extent::kFull : Extent::kRow;
    }

    // Whether formulas of this set may use `op` (leaves always may).
    bool Allows(Op op) const { return allowed_[static_cast<int>(op)]; }

    // Index of the input called `name` (release name, or paper letter with `infix`).
    std::optional<int> FindInput(std::string_view name, bool infix) const;

  private:
    PrimitiveSet(SetKind kind,
                 std::string_view name,
                 std::span<const InputInfo> inputs,
                 std::bitset<kOpCount> allowed);

    SetKind kind_;
    std::string_view name_;
    std::span<const InputInfo> inputs_;
    std::bitset<kOpCount> allowed_;
};

// Extent of `op` applied to operands of extents `a` and `b` (b ignored for unary operators):
// element-wise operators broadcast to the wider operand, Softmax always spans the classes, and
// Dot removes the class dimension.
inline Extent ResultExtent(Op op, Extent a, Extent b = Extent::kScalar) {
    if (op == Op::kSoftmax) {
        return Extent::kFull;
    }
    const Extent widest = Arity(op) == 2 && b > a ? b : a;
    return op == Op::kDot && widest == Extent::kFull ? Extent::kRow : widest;
}

// Largest number of inputs of any set.
inline constexpr int kMaxInputs = 4;

}  // namespace autoloss::expr
