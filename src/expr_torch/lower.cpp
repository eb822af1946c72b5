#include "expr_torch/lower.h"

#include <numbers>
#include <vector>

#include <torch/torch.h>

#include "expr/evaluate.h"
#include "expr/numerics.h"
#include "expr/stable_log.h"
#include "util/check.h"

namespace autoloss::expr {

namespace {

// A value widened to the full [rows, classes] grid.
at::Tensor Spread(const at::Tensor& value, Extent extent, const at::Tensor& reference) {
    return extent == Extent::kFull ? value : torch::zeros_like(reference) + value;
}

at::Tensor Unary(Op op, const at::Tensor& a) {
    constexpr double kPi = std::numbers::pi;
    switch (op) {
        case Op::kNeg:
            return -a;
        case Op::kAbs:
            return a.abs();
        case Op::kTanh:
            return a.tanh();
        case Op::kRelu:
            return a.relu();
        case Op::kSin:
            return a.sin();
        case Op::kCos:
            return a.cos();
        case Op::kSig:
            return a.sigmoid();
        case Op::kSoftplus:
            return torch::softplus(a, 1.0, kSoftplusThreshold);
        case Op::kExp:
            return a.clamp_max(kExpClamp).exp();
        case Op::kLog:
            return (a + kLogDivEpsilon).log();
        case Op::kSqrt:
            return a.sqrt();
        case Op::kSgdf: {
            const at::Tensor g = 2.0 * (a * (kPi / 8.0)).tanh().atan();
            return (2.0 * g / kPi + 1.0) / 2.0;
        }
        case Op::kSalf: {
            const at::Tensor t = a / 2.0;
            return (t / (1.0 + t * t).sqrt() + 1.0) / 2.0;
        }
        case Op::kSerf:
            return ((std::sqrt(kPi) / 2.0 * a / 2.0).erf() + 1.0) / 2.0;
        case Op::kSerfc:
            return 1.0 - ((std::sqrt(kPi) / 2.0 * a / 2.0).erf() + 1.0) / 2.0;
        default:
            AUTOLOSS_CHECK(false, "not an element-wise unary operator");
    }
    return {};
}

// The Log at `log` as log-sigmoid or log-softmax when it is one of the stable logs; else
// undefined. `values` holds the instructions' results; `node_slots` maps formula nodes to
// instructions.
at::Tensor StableLogValue(const Formula& formula,
                          const Instruction& log,
                          std::span<const Instruction> instructions,
                          const std::vector<int>& node_slots,
                          const std::vector<at::Tensor>& values,
                          const at::Tensor& reference) {
    const auto match = MatchStableLog(formula, log.node);
    if (!match) {
        return {};
    }
    const int slot = node_slots[match->argument];
    const at::Tensor& z = values[slot];
    switch (match->kind) {
        case StableLogKind::kLogSigmoid:
            return torch::log_sigmoid(z);
        case StableLogKind::kLogOneMinusSigmoid:
            return torch::log_sigmoid(-z);
        case StableLogKind::kLogSoftmax:
            return Spread(z, instructions[slot].extent, reference).log_softmax(1);
    }
    return {};
}

}  // namespace

at::Tensor EvaluateTorch(const Formula& formula, std::span<const at::Tensor> inputs) {
    const PrimitiveSet& set = formula.primitive_set();
    AUTOLOSS_CHECK(inputs.size() == set.inputs().size(), "one tensor per input of the set");
    const at::Tensor& reference = inputs[0];
    AUTOLOSS_CHECK(reference.defined(), "the first input gives shape, dtype and device");
    const bool classwise = set.kind() != SetKind::kReg;

    const Program program(formula);
    const auto instructions = program.instructions();
    std::vector<at::Tensor> values(instructions.size());
    std::vector<int> node_slots(instructions.size());
    for (std::size_t k = 0; k < instructions.size(); ++k) {
        node_slots[instructions[k].node] = static_cast<int>(k);
    }
    for (std::size_t k = 0; k < instructions.size(); ++k) {
        const Instruction& ins = instructions[k];
        if (ins.op == Op::kInput) {
            values[k] = inputs[ins.input];
            AUTOLOSS_CHECK(values[k].defined(), "formula reads an undefined input");
            continue;
        }
        if (ins.op == Op::kConstant) {
            values[k] = torch::scalar_tensor(ins.value, reference.options());
            continue;
        }
        const at::Tensor& a = values[ins.a];
        const Extent ea = instructions[ins.a].extent;
        switch (ins.op) {
            case Op::kLog:
                values[k] =
                    StableLogValue(formula, ins, instructions, node_slots, values, reference);
                if (!values[k].defined()) {
                    values[k] = Unary(ins.op, a);
                }
                break;
            case Op::kSoftmax:
                values[k] = Spread(a, ea, reference).softmax(1);
                break;
            case Op::kAdd:
                values[k] = a + values[ins.b];
                break;
            case Op::kSub:
                values[k] = a - values[ins.b];
                break;
            case Op::kMul:
                values[k] = a * values[ins.b];
                break;
            case Op::kDiv:
                values[k] = a / (values[ins.b] + kLogDivEpsilon);
                break;
            case Op::kDot: {
                // Per-sample values stay [rows, 1] so they broadcast along the classes.
                const Extent product_extent =
                    ResultExtent(Op::kMul, ea, instructions[ins.b].extent);
                const at::Tensor product = a * values[ins.b];
                values[k] = product_extent == Extent::kScalar
                                ? product * static_cast<double>(reference.size(1))
                                : Spread(product, product_extent, reference).sum(1, true);
                break;
            }
            default:
                values[k] = Unary(ins.op, a);
        }
    }

    const at::Tensor& root = values.back();
    const Extent root_extent = instructions.back().extent;
    if (root_extent > set.output_extent()) {
        return root.sum(1);
    }
    if (root_extent == set.output_extent()) {
        return classwise && root_extent == Extent::kRow ? root.squeeze(1) : root;
    }
    if (set.kind() == SetKind::kClsMulti) {
        // Root is a per-sample [rows, 1] value or a scalar.
        return (torch::zeros({reference.size(0)}, reference.options()) +
                (root_extent == Extent::kRow ? root.squeeze(1) : root));
    }
    return torch::zeros_like(reference) + root;
}

}  // namespace autoloss::expr
