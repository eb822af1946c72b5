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

// The facts of `op`.
const OpInfo& Info(Op op);

// Number of operands of `op` (0 for leaves).
inline int Arity(Op op) { return Info(op).arity; }

// Looks an operator up by its release spelling (`"Sgdf"`) or, with `infix`, its readable one
// (`"sgdf"`); leaves are never found.
std::optional<Op> FindOp(std::string_view name, bool infix);

// True for the element-wise binary operators whose operands commute.
inline bool IsCommutative(Op op) { return op == Op::kAdd || op == Op::kMul || op == Op::kDot; }

}  // namespace autoloss::expr
