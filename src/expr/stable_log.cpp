#include "expr/stable_log.h"

#include <utility>

namespace autoloss::expr {

namespace {

bool IsOne(const Node& node) {
    return node.op == Op::kConstant && node.value == 1.0;
}

// The node index of z when node `index` is Sig(z); else -1.
int SigmoidArgument(const Formula& formula, int index) {
    return formula.node(index).op == Op::kSig ? index + 1 : -1;
}

// The node index of z when node `index` computes 1 - Sig(z); else -1.
int OneMinusSigmoidArgument(const Formula& formula, int index) {
    const Op op = formula.node(index).op;
    if (op != Op::kSub && op != Op::kAdd) {
        return -1;
    }
    const int first = index + 1;
    const int second = formula.SubtreeEnd(first);
    if (op == Op::kSub) {
        return IsOne(formula.node(first)) ? SigmoidArgument(formula, second) : -1;
    }
    for (const auto [one, other] : {std::pair(first, second), std::pair(second, first)}) {
        if (IsOne(formula.node(one)) && formula.node(other).op == Op::kNeg) {
            return SigmoidArgument(formula, other + 1);
        }
    }
    return -1;
}

}  // namespace

std::optional<StableLog> MatchStableLog(const Formula& formula, int index) {
    if (formula.node(index).op != Op::kLog) {
        return std::nullopt;
    }
    const int operand = index + 1;
    if (const int z = SigmoidArgument(formula, operand); z >= 0) {
        return StableLog{StableLogKind::kLogSigmoid, z};
    }
    if (const int z = OneMinusSigmoidArgument(formula, operand); z >= 0) {
        return StableLog{StableLogKind::kLogOneMinusSigmoid, z};
    }
    if (formula.node(operand).op == Op::kSoftmax) {
        return StableLog{StableLogKind::kLogSoftmax, operand + 1};
    }
    return std::nullopt;
}

}  // namespace autoloss::expr
