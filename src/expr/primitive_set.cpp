#include "expr/primitive_set.h"

#include <array>

namespace autoloss::expr {

namespace {

constexpr std::array<InputInfo, 3> kMultiInputs = {{
    {"X", "x", "x", "logits [B, C+1], background last"},
    {"Y", "y", "y", "one-hot target [B, C+1]"},
    {"Z",
     "w",
     "w",
     "IoU weight [B, C+1]: IoU with the ground truth on positive rows, 1 on "
     "negative rows"},
}};

constexpr std::array<InputInfo, 4> kBinaryInputs = {{
    {"X", "x", "x", "logits [N, C]"},
    {"Q", "q", "q", "IoU at the positive (sample, class), 0 elsewhere [N, C]"},
    {"PY", "y", "y", "binary target [N, C]"},
    {"NY", "ny", "\\bar{y}", "1 - binary target [N, C]"},
}};

constexpr std::array<InputInfo, 3> kRegInputs = {{
    {"U", "u", "u", "union area of predicted and target box, +1e-7 [N]"},
    {"I", "i", "i", "intersection area [N]"},
    {"E", "e", "e", "area of the smallest enclosing box, +1e-7 [N]"},
}};

std::bitset<kOpCount> AllOps() {
    std::bitset<kOpCount> all;
    all.set();
    return all;
}

std::bitset<kOpCount> Without(std::bitset<kOpCount> ops, std::initializer_list<Op> removed) {
    for (Op op : removed) {
        ops.reset(static_cast<int>(op));
    }
    return ops;
}

}  // namespace

PrimitiveSet::PrimitiveSet(SetKind kind,
                           std::string_view name,
                           std::span<const InputInfo> inputs,
                           std::bitset<kOpCount> allowed)
    : kind_(kind), name_(name), inputs_(inputs), allowed_(allowed) {}

const PrimitiveSet& PrimitiveSet::Get(SetKind kind) {
    static const PrimitiveSet multi(SetKind::kClsMulti, "cls-multi", kMultiInputs, AllOps());
    static const PrimitiveSet binary(
        SetKind::kClsBinary, "cls-binary", kBinaryInputs, Without(AllOps(), {Op::kDot}));
    static const PrimitiveSet reg(
        SetKind::kReg,
        "reg",
        kRegInputs,
        Without(AllOps(), {Op::kSoftmax, Op::kDot, Op::kSgdf, Op::kSalf, Op::kSerf, Op::kSerfc}));
    switch (kind) {
        case SetKind::kClsMulti:
            return multi;
        case SetKind::kClsBinary:
            return binary;
        case SetKind::kReg:
            return reg;
    }
    return multi;
}

std::optional<SetKind> PrimitiveSet::ParseKind(std::string_view text) {
    for (SetKind kind : {SetKind::kClsMulti, SetKind::kClsBinary, SetKind::kReg}) {
        if (Get(kind).name() == text) {
            return kind;
        }
    }
    return std::nullopt;
}

std::optional<int> PrimitiveSet::FindInput(std::string_view name, bool infix) const {
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
        if ((infix ? inputs_[i].letter : inputs_[i].name) == name) {
            return static_cast<int>(i);
        }
    }
    return std::nullopt;
}

}  // namespace autoloss::expr
