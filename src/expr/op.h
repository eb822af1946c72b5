#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace autoloss::expr {

// Every node kind of a loss formula: two leaf kinds and the paper's 21 primitive operators
// (16 unary, 5 binary). Numerics follow the authors' release; see ../shared/SPEC.md §1.
enum class Op : std::uint8_t {
    kInput,     // leaf: one of the primitive set's inputs
    kConstant,  // leaf: a non-negative real (1, 2 or 3 in the search space)
    // unary
    kNeg,
    kAbs,
    kTanh,
    kRelu,
    kSin,
    kCos,
    kSig,       // logistic sigmoid
    kSoftplus,  // ln(1 + e^x), with PyTorch's threshold: x itself above 20
    kExp,       // e^min(x, 88)
    kLog,       // ln(x + 1e-20)
    kSqrt,      // unguarded
    kSoftmax,   // over the class dimension
    kSgdf,      // scaled Gudermannian, range (0, 1)
    kSalf,      // scaled algebraic, range (0, 1)
    kSerf,      // scaled error function, range (0, 1)
    kSerfc,     // 1 - Serf
    // binary
    kAdd,
    kSub,
    kMul,
    kDiv,  // x1 / (x2 + 1e-20)
    kDot,  // sum over the class dimension of x1 * x2
};

inline constexpr int kOpCount = static_cast<int>(Op::kDot) + 1;

// Epsilon the release adds inside Log and to the denominator of Div.
inline constexpr double kLogDivEpsilon = 1e-20;
// Exp clamps its argument from above here, so e^x stays finite in float.
inline constexpr double kExpClamp = 88.0;
// Softplus returns x itself above this argument (PyTorch's default threshold).
inline constexpr double kSoftplusThreshold = 20.0;

// Static facts about one operator.
struct OpInfo {
    Op op;
    int arity;                    // 0 for leaves, 1 or 2 for operators
    std::string_view name;        // the release's prefix spelling, e.g. "Softplus"
    std::string_view infix_name;  // the readable spelling, e.g. "softplus"
};

namespace detail {
// Indexed by Op; Info() checks the order.
inline constexpr OpInfo kOps[kOpCount] = {
    {Op::kInput, 0, "", ""},        {Op::kConstant, 0, "", ""},
    {Op::kNeg, 1, "Neg", "neg"},    {Op::kAbs, 1, "Abs", "abs"},
    {Op::kTanh, 1, "Tanh", "tanh"}, {Op::kRelu, 1, "Relu", "relu"},
    {Op::kSin, 1, "Sin", "sin"},    {Op::kCos, 1, "Cos", "cos"},
    {Op::kSig, 1, "Sig", "sig"},    {Op::kSoftplus, 1, "Softplus", "softplus"},
    {Op::kExp, 1, "Exp", "exp"},    {Op::kLog, 1, "Log", "log"},
    {Op::kSqrt, 1, "Sqrt", "sqrt"}, {Op::kSoftmax, 1, "Softmax", "softmax"},
    {Op::kSgdf, 1, "Sgdf", "sgdf"}, {Op::kSalf, 1, "Salf", "salf"},
    {Op::kSerf, 1, "Serf", "serf"}, {Op::kSerfc, 1, "Serfc", "serfc"},
    {Op::kAdd, 2, "Add", "add"},    {Op::kSub, 2, "Sub", "sub"},
    {Op::kMul, 2, "Mul", "mul"},    {Op::kDiv, 2, "Div", "div"},
    {Op::kDot, 2, "Dot", "dot"},
};

constexpr bool TableInOrder() {
    for (int k = 0; k < kOpCount; ++k) {
        if (static_cast<int>(kOps[k].op) != k) {
            return false;
        }
    }
    return true;
}
static_assert(TableInOrder(), "operator table out of order");
}  // namespace detail

// The facts of `op` (inline: the evaluator and the variation operators ask for every node).
constexpr const OpInfo& Info(Op op) {
    return detail::kOps[static_cast<int>(op)];
}

// Number of operands of `op` (0 for leaves).
constexpr int Arity(Op op) {
    return Info(op).arity;
}

// Looks an operator up by its release spelling (`"Sgdf"`) or, with `infix`, its readable one
// (`"sgdf"`); leaves are never found.
std::optional<Op> FindOp(std::string_view name, bool infix);

// True for the element-wise binary operators whose operands commute.
inline bool IsCommutative(Op op) {
    return op == Op::kAdd || op == Op::kMul || op == Op::kDot;
}

}  // namespace autoloss::expr
