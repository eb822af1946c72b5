#include "expr/simplify.h"

#include <cmath>
#include <optional>
#include <vector>

#include "expr/evaluate.h"
#include "expr/numerics.h"

namespace autoloss::expr {

namespace {

using Nodes = std::vector<Node>;

// Smallest value any input of the regression set can take: U and E carry +1e-7.
constexpr double kAreaFloor = 1e-7;

Nodes Constant(double value) {
    if (value == 0.0) {
        return {ConstantNode(0.0)};  // also turns -0 into 0
    }
    if (value < 0.0) {
        return {OpNode(Op::kNeg), ConstantNode(-value)};
    }
    return {ConstantNode(value)};
}

// The value of a constant subtree: c or Neg(c).
std::optional<double> ConstantValue(const Nodes& nodes) {
    if (nodes.size() == 1 && nodes[0].op == Op::kConstant) {
        return nodes[0].value;
    }
    if (nodes.size() == 2 && nodes[0].op == Op::kNeg && nodes[1].op == Op::kConstant) {
        return -nodes[1].value;
    }
    return std::nullopt;
}

bool IsConstant(const Nodes& nodes, double value) {
    const auto constant = ConstantValue(nodes);
    return constant && *constant == value;
}

Nodes Tail(const Nodes& nodes) {
    return Nodes(nodes.begin() + 1, nodes.end());
}

Nodes Combine(Op op, const Nodes& a, const Nodes& b = {}) {
    Nodes result{OpNode(op)};
    result.insert(result.end(), a.begin(), a.end());
    result.insert(result.end(), b.begin(), b.end());
    return result;
}

// The two operands of a binary root.
std::pair<Nodes, Nodes> Operands(const Nodes& nodes, SetKind set) {
    const Formula formula(set, nodes);
    const int split = formula.SubtreeEnd(1);
    return {Nodes(nodes.begin() + 1, nodes.begin() + split),
            Nodes(nodes.begin() + split, nodes.end())};
}

class Simplifier {
  public:
    explicit Simplifier(SetKind set) : set_(set) {}

    Nodes Run(const Formula& formula, int index, int* next) {
        const Node& node = formula.node(index);
        *next = index + 1;
        if (Arity(node.op) == 0) {
            return {node};
        }
        const Nodes a = Run(formula, *next, next);
        if (Arity(node.op) == 1) {
            return Unary(node.op, a);
        }
        const Nodes b = Run(formula, *next, next);
        return Binary(node.op, a, b);
    }

  private:
    // Provable lower bound of a subtree's value, when it is one we can use.
    std::optional<double> LowerBound(const Nodes& nodes) const {
        const Node& root = nodes[0];
        if (root.op == Op::kConstant) {
            return root.value;
        }
        if (root.op == Op::kInput && set_ == SetKind::kReg) {
            const auto name = PrimitiveSet::Get(set_).inputs()[root.input].name;
            return name == "U" || name == "E" ? std::optional<double>(kAreaFloor) : std::nullopt;
        }
        if (root.op == Op::kAdd || root.op == Op::kMul) {
            const auto [a, b] = Operands(nodes, set_);
            const auto low_a = LowerBound(a);
            const auto low_b = LowerBound(b);
            if (low_a && low_b && *low_a >= 0.0 && *low_b >= 0.0) {
                return root.op == Op::kAdd ? *low_a + *low_b : *low_a * *low_b;
            }
        }
        return std::nullopt;
    }

    Nodes Unary(Op op, const Nodes& a) const {
        if (const auto value = ConstantValue(a); value && op != Op::kSoftmax) {
            const double folded = UnaryValue(op, *value);
            if (std::isfinite(folded)) {
                return Constant(folded);
            }
        }
        const Op inner = a[0].op;
        switch (op) {
            case Op::kNeg:
                if (inner == Op::kNeg) {
                    return Tail(a);
                }
                if (inner == Op::kSub) {
                    const auto [x, y] = Operands(a, set_);
                    return Combine(Op::kSub, y, x);
                }
                break;
            case Op::kAbs:
                if (inner == Op::kAbs) {
                    return a;
                }
                if (inner == Op::kNeg) {
                    return Unary(Op::kAbs, Tail(a));
                }
                break;
            case Op::kRelu:
                if (inner == Op::kRelu) {
                    return a;
                }
                break;
            default:
                break;
        }
        return Combine(op, a);
    }

    Nodes Binary(Op op, const Nodes& a, const Nodes& b) const {
        if (op == Op::kDot) {
            return Combine(op, a, b);
        }
        const auto value_a = ConstantValue(a);
        const auto value_b = ConstantValue(b);
        if (value_a && value_b) {
            const double folded = BinaryValue(op, *value_a, *value_b);
            if (std::isfinite(folded)) {
                return Constant(folded);
            }
        }
        switch (op) {
            case Op::kAdd:
                if (IsConstant(a, 0.0)) {
                    return b;
                }
                if (IsConstant(b, 0.0)) {
                    return a;
                }
                if (b[0].op == Op::kNeg) {
                    return Binary(Op::kSub, a, Tail(b));
                }
                if (a[0].op == Op::kNeg) {
                    return Binary(Op::kSub, b, Tail(a));
                }
                break;
            case Op::kSub:
                if (IsConstant(b, 0.0)) {
                    return a;
                }
                if (IsConstant(a, 0.0)) {
                    return Unary(Op::kNeg, b);
                }
                if (a == b) {
                    return Constant(0.0);
                }
                if (b[0].op == Op::kNeg) {
                    return Binary(Op::kAdd, a, Tail(b));
                }
                break;
            case Op::kMul:
                if (IsConstant(a, 1.0)) {
                    return b;
                }
                if (IsConstant(b, 1.0)) {
                    return a;
                }
                if (IsConstant(a, -1.0)) {
                    return Unary(Op::kNeg, b);
                }
                if (IsConstant(b, -1.0)) {
                    return Unary(Op::kNeg, a);
                }
                break;
            case Op::kDiv:
                // 1e-20 vanishes next to |b| = 1 in double, so these are exact.
                if (IsConstant(b, 1.0)) {
                    return a;
                }
                if (IsConstant(b, -1.0)) {
                    return Unary(Op::kNeg, a);
                }
                if (a == b) {
                    if (const auto low = LowerBound(a); low && *low >= kAreaFloor) {
                        return Constant(1.0);
                    }
                }
                break;
            default:
                break;
        }
        return Combine(op, a, b);
    }

    SetKind set_;
};

}  // namespace

Formula Simplify(const Formula& formula) {
    int next = 0;
    Nodes nodes = Simplifier(formula.set()).Run(formula, 0, &next);
    // A multi-class loss sums a class-wise root over the classes; when a rewrite removed the
    // class dimension (Sub(Y,Y) → 0), Dot(r, 1) keeps that sum.
    if (formula.set() == SetKind::kClsMulti) {
        const auto root_extent = [](const Formula& f) {
            return Program(f).instructions().back().extent;
        };
        Formula simplified(formula.set(), nodes);
        if (root_extent(formula) == Extent::kFull && root_extent(simplified) != Extent::kFull &&
            !IsConstant(nodes, 0.0)) {
            nodes = Combine(Op::kDot, nodes, {ConstantNode(1.0)});
        }
    }
    return Formula(formula.set(), std::move(nodes));
}

}  // namespace autoloss::expr
