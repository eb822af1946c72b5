#include "expr/op.h"

#include <array>

#include "util/check.h"

namespace autoloss::expr {

namespace {

constexpr std::array<OpInfo, kOpCount> kOps = {{
    {Op::kInput, 0, "", ""},
    {Op::kConstant, 0, "", ""},
    {Op::kNeg, 1, "Neg", "neg"},
    {Op::kAbs, 1, "Abs", "abs"},
    {Op::kTanh, 1, "Tanh", "tanh"},
    {Op::kRelu, 1, "Relu", "relu"},
    {Op::kSin, 1, "Sin", "sin"},
    {Op::kCos, 1, "Cos", "cos"},
    {Op::kSig, 1, "Sig", "sig"},
    {Op::kSoftplus, 1, "Softplus", "softplus"},
    {Op::kExp, 1, "Exp", "exp"},
    {Op::kLog, 1, "Log", "log"},
    {Op::kSqrt, 1, "Sqrt", "sqrt"},
    {Op::kSoftmax, 1, "Softmax", "softmax"},
    {Op::kSgdf, 1, "Sgdf", "sgdf"},
    {Op::kSalf, 1, "Salf", "salf"},
    {Op::kSerf, 1, "Serf", "serf"},
    {Op::kSerfc, 1, "Serfc", "serfc"},
    {Op::kAdd, 2, "Add", "add"},
    {Op::kSub, 2, "Sub", "sub"},
    {Op::kMul, 2, "Mul", "mul"},
    {Op::kDiv, 2, "Div", "div"},
    {Op::kDot, 2, "Dot", "dot"},
}};

}  // namespace

const OpInfo& Info(Op op) {
    const auto index = static_cast<std::size_t>(op);
    AUTOLOSS_CHECK(index < kOps.size() && kOps[index].op == op, "operator table out of order");
    return kOps[index];
}

std::optional<Op> FindOp(std::string_view name, bool infix) {
    for (const OpInfo& info : kOps) {
        if (info.arity > 0 && (infix ? info.infix_name : info.name) == name) {
            return info.op;
        }
    }
    return std::nullopt;
}

}  // namespace autoloss::expr
