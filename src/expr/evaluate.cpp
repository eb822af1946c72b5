#include "expr/evaluate.h"

#include <algorithm>
#include <type_traits>

#include "expr/numerics.h"
#include "util/check.h"

namespace autoloss::expr {

namespace {

// Calls `f` with `op` as a compile-time constant, so the per-element switch inside the numerics
// folds away and each operator's loop is a plain loop the compiler can vectorise.
template <typename F>
void WithConstantOp(Op op, F&& f) {
#define AUTOLOSS_OP_CASE(name)                     \
    case Op::name:                                 \
        f(std::integral_constant<Op, Op::name>{}); \
        return;
    switch (op) {
        AUTOLOSS_OP_CASE(kNeg)
        AUTOLOSS_OP_CASE(kAbs)
        AUTOLOSS_OP_CASE(kTanh)
        AUTOLOSS_OP_CASE(kRelu)
        AUTOLOSS_OP_CASE(kSin)
        AUTOLOSS_OP_CASE(kCos)
        AUTOLOSS_OP_CASE(kSig)
        AUTOLOSS_OP_CASE(kSoftplus)
        AUTOLOSS_OP_CASE(kExp)
        AUTOLOSS_OP_CASE(kLog)
        AUTOLOSS_OP_CASE(kSqrt)
        AUTOLOSS_OP_CASE(kSgdf)
        AUTOLOSS_OP_CASE(kSalf)
        AUTOLOSS_OP_CASE(kSerf)
        AUTOLOSS_OP_CASE(kSerfc)
        AUTOLOSS_OP_CASE(kAdd)
        AUTOLOSS_OP_CASE(kSub)
        AUTOLOSS_OP_CASE(kMul)
        AUTOLOSS_OP_CASE(kDiv)
        default:
            AUTOLOSS_CHECK(false, "operator has no element-wise numerics");
    }
#undef AUTOLOSS_OP_CASE
}

// Flat index of element (r, c) in a value of `extent` (broadcasting smaller extents).
inline std::size_t Index(Extent extent, int r, int c, int classes) {
    switch (extent) {
        case Extent::kScalar:
            return 0;
        case Extent::kRow:
            return static_cast<std::size_t>(r);
        case Extent::kFull:
            return static_cast<std::size_t>(r) * classes + c;
    }
    return 0;
}

// Calls f(i_out, i_a, i_b) for every element of a result of extent `out` whose operands have
// extents `a` and `b`, mapping broadcast operands to their single stored value.
template <typename F>
void ForEachBroadcast(Extent out, Extent a, Extent b, int rows, int classes, F&& f) {
    if (a == out && b == out) {
        const std::size_t n = out == Extent::kScalar ? 1
                              : out == Extent::kRow  ? static_cast<std::size_t>(rows)
                                                     : static_cast<std::size_t>(rows) * classes;
        for (std::size_t i = 0; i < n; ++i) {
            f(i, i, i);
        }
        return;
    }
    if (out == Extent::kRow) {
        for (int r = 0; r < rows; ++r) {
            f(static_cast<std::size_t>(r), Index(a, r, 0, 1), Index(b, r, 0, 1));
        }
        return;
    }
    for (int r = 0; r < rows; ++r) {
        for (int c = 0; c < classes; ++c) {
            f(Index(out, r, c, classes), Index(a, r, c, classes), Index(b, r, c, classes));
        }
    }
}

}  // namespace

Program::Program(const Formula& formula) : set_(formula.set()) {
    const Extent input_extent = formula.primitive_set().input_extent();
    // A prefix array read backwards lists every operand before its operator; the operands of
    // the operator at hand are then on top of the stack, first operand topmost.
    std::vector<int> stack;
    instructions_.reserve(formula.size());
    for (int i = formula.size() - 1; i >= 0; --i) {
        const Node& node = formula.node(i);
        Instruction instruction{node.op, Extent::kScalar, node.input};
        instruction.node = i;
        switch (Arity(node.op)) {
            case 0:
                instruction.value = node.value;
                instruction.extent = node.op == Op::kInput ? input_extent : Extent::kScalar;
                break;
            case 1:
                instruction.a = stack.back();
                stack.pop_back();
                instruction.extent = ResultExtent(node.op, instructions_[instruction.a].extent);
                break;
            default: {
                instruction.a = stack.back();
                stack.pop_back();
                instruction.b = stack.back();
                stack.pop_back();
                instruction.extent = ResultExtent(node.op,
                                                  instructions_[instruction.a].extent,
                                                  instructions_[instruction.b].extent);
            }
        }
        stack.push_back(static_cast<int>(instructions_.size()));
        instructions_.push_back(instruction);
    }
}

template <typename T>
std::size_t Evaluator<T>::Size(Extent extent) const {
    switch (extent) {
        case Extent::kScalar:
            return 1;
        case Extent::kRow:
            return static_cast<std::size_t>(rows_);
        case Extent::kFull:
            return static_cast<std::size_t>(rows_) * classes_;
    }
    return 0;
}

template <typename T>
std::span<const T> Evaluator<T>::Forward(const Program& program, const Batch<T>& batch) {
    AUTOLOSS_CHECK(batch.rows >= 0 && batch.classes >= 1, "batch dimensions");
    AUTOLOSS_CHECK(program.set() != SetKind::kReg || batch.classes == 1, "regression batch");
    rows_ = batch.rows;
    classes_ = batch.classes;
    const auto instructions = program.instructions();
    const std::size_t n = instructions.size();

    offsets_.resize(n + 1);
    offsets_[0] = 0;
    for (std::size_t k = 0; k < n; ++k) {
        offsets_[k + 1] = offsets_[k] + Size(instructions[k].extent);
    }
    values_.resize(offsets_[n]);
    slot_values_.resize(n);

    for (std::size_t k = 0; k < n; ++k) {
        const Instruction& ins = instructions[k];
        T* out = values_.data() + offsets_[k];
        const std::size_t size = Size(ins.extent);
        if (ins.op == Op::kInput) {
            AUTOLOSS_CHECK(batch.inputs[ins.input] != nullptr, "formula reads a missing input");
            slot_values_[k] = batch.inputs[ins.input];
            continue;
        }
        slot_values_[k] = out;
        if (ins.op == Op::kConstant) {
            out[0] = static_cast<T>(ins.value);
            continue;
        }
        const T* a = slot_values_[ins.a];
        const Extent ea = instructions[ins.a].extent;
        if (ins.op == Op::kSoftmax) {
            if (ea != Extent::kFull) {
                // Constant along the classes: every class gets the same share.
                std::fill(out, out + size, T(1) / static_cast<T>(classes_));
                continue;
            }
            for (int r = 0; r < rows_; ++r) {
                const T* row = a + static_cast<std::size_t>(r) * classes_;
                T* result = out + static_cast<std::size_t>(r) * classes_;
                const T peak = *std::max_element(row, row + classes_);
                T total = 0;
                for (int c = 0; c < classes_; ++c) {
                    result[c] = std::exp(row[c] - peak);
                    total += result[c];
                }
                for (int c = 0; c < classes_; ++c) {
                    result[c] /= total;
                }
            }
            continue;
        }
        if (Arity(ins.op) == 1) {
            WithConstantOp(ins.op, [&](auto op) {
                for (std::size_t i = 0; i < size; ++i) {
                    out[i] = UnaryValue<T>(op(), a[i]);
                }
            });
            continue;
        }
        const T* b = slot_values_[ins.b];
        const Extent eb = instructions[ins.b].extent;
        if (ins.op == Op::kDot) {
            const int dot_rows = ins.extent == Extent::kRow ? rows_ : 1;
            for (int r = 0; r < dot_rows; ++r) {
                T total = 0;
                for (int c = 0; c < classes_; ++c) {
                    total += a[Index(ea, r, c, classes_)] * b[Index(eb, r, c, classes_)];
                }
                out[r] = total;
            }
            continue;
        }
        WithConstantOp(ins.op, [&](auto op) {
            ForEachBroadcast(ins.extent, ea, eb, rows_, classes_, [&](auto io, auto ia, auto ib) {
                out[io] = BinaryValue<T>(op(), a[ia], b[ib]);
            });
        });
    }

    // Shape the root into the set's per-sample output.
    const Extent root_extent = instructions[n - 1].extent;
    const T* root = slot_values_[n - 1];
    const Extent out_extent = PrimitiveSet::Get(program.set()).output_extent();
    output_.assign(Size(out_extent), T(0));
    if (root_extent > out_extent) {
        // Only a class-wise multi-class result: summed over classes.
        for (int r = 0; r < rows_; ++r) {
            for (int c = 0; c < classes_; ++c) {
                output_[r] += root[static_cast<std::size_t>(r) * classes_ + c];
            }
        }
    } else {
        ForEachBroadcast(
            out_extent, root_extent, root_extent, rows_, classes_, [&](auto io, auto ia, auto) {
                output_[io] = root[ia];
            });
    }
    return output_;
}

template <typename T>
std::span<const T> Evaluator<T>::Backward(const Program& program,
                                          const Batch<T>& batch,
                                          int input) {
    AUTOLOSS_CHECK(batch.rows == rows_ && batch.classes == classes_, "Backward after Forward");
    const auto instructions = program.instructions();
    const std::size_t n = instructions.size();
    const PrimitiveSet& set = PrimitiveSet::Get(program.set());
    gradient_.assign(Size(set.input_extent()), T(0));

    depends_.resize(n);
    bool any = false;
    for (std::size_t k = 0; k < n; ++k) {
        const Instruction& ins = instructions[k];
        switch (Arity(ins.op)) {
            case 0:
                depends_[k] = ins.op == Op::kInput && ins.input == input;
                break;
            case 1:
                depends_[k] = depends_[ins.a];
                break;
            default:
                depends_[k] = depends_[ins.a] || depends_[ins.b];
        }
        any = any || depends_[k];
    }
    if (!any) {
        return gradient_;
    }

    adjoints_.assign(offsets_[n], T(0));
    // Seed: how many output elements each root element feeds (a broadcast root feeds many).
    const Extent root_extent = instructions[n - 1].extent;
    const Extent out_extent = set.output_extent();
    const T seed =
        root_extent > out_extent ? T(1) : static_cast<T>(Size(out_extent) / Size(root_extent));
    std::fill(adjoints_.begin() + offsets_[n - 1], adjoints_.end(), seed);

    for (std::size_t k = n; k-- > 0;) {
        const Instruction& ins = instructions[k];
        if (!depends_[k]) {
            continue;
        }
        const T* adjoint = adjoints_.data() + offsets_[k];
        const T* y = slot_values_[k];
        const std::size_t size = Size(ins.extent);
        if (ins.op == Op::kInput) {
            for (std::size_t i = 0; i < size; ++i) {
                gradient_[i] += adjoint[i];
            }
            continue;
        }
        const T* a = slot_values_[ins.a];
        T* adjoint_a = adjoints_.data() + offsets_[ins.a];
        const Extent ea = instructions[ins.a].extent;
        if (ins.op == Op::kSoftmax) {
            if (ea != Extent::kFull) {
                continue;  // the result does not depend on its operand
            }
            for (int r = 0; r < rows_; ++r) {
                const std::size_t row = static_cast<std::size_t>(r) * classes_;
                T weighted = 0;
                for (int c = 0; c < classes_; ++c) {
                    weighted += adjoint[row + c] * y[row + c];
                }
                for (int c = 0; c < classes_; ++c) {
                    adjoint_a[row + c] += y[row + c] * (adjoint[row + c] - weighted);
                }
            }
            continue;
        }
        if (Arity(ins.op) == 1) {
            WithConstantOp(ins.op, [&](auto op) {
                for (std::size_t i = 0; i < size; ++i) {
                    const T derivative = UnaryDerivative<T>(op(), a[i], y[i]);
                    if (!(DerivativeIsMask(op()) && derivative == T(0))) {
                        adjoint_a[i] += adjoint[i] * derivative;
                    }
                }
            });
            continue;
        }
        const T* b = slot_values_[ins.b];
        T* adjoint_b = adjoints_.data() + offsets_[ins.b];
        const Extent eb = instructions[ins.b].extent;
        const bool into_a = depends_[ins.a];
        const bool into_b = depends_[ins.b];
        if (ins.op == Op::kDot) {
            const int dot_rows = ins.extent == Extent::kRow ? rows_ : 1;
            for (int r = 0; r < dot_rows; ++r) {
                for (int c = 0; c < classes_; ++c) {
                    const std::size_t ia = Index(ea, r, c, classes_);
                    const std::size_t ib = Index(eb, r, c, classes_);
                    if (into_a) {
                        adjoint_a[ia] += adjoint[r] * b[ib];
                    }
                    if (into_b) {
                        adjoint_b[ib] += adjoint[r] * a[ia];
                    }
                }
            }
            continue;
        }
        ForEachBroadcast(ins.extent, ea, eb, rows_, classes_, [&](auto io, auto ia, auto ib) {
            const T g = adjoint[io];
            switch (ins.op) {
                case Op::kAdd:
                    if (into_a)
                        adjoint_a[ia] += g;
                    if (into_b)
                        adjoint_b[ib] += g;
                    break;
                case Op::kSub:
                    if (into_a)
                        adjoint_a[ia] += g;
                    if (into_b)
                        adjoint_b[ib] -= g;
                    break;
                case Op::kMul:
                    if (into_a)
                        adjoint_a[ia] += g * b[ib];
                    if (into_b)
                        adjoint_b[ib] += g * a[ia];
                    break;
                default: {  // Div
                    const T denominator = b[ib] + T(kLogDivEpsilon);
                    if (into_a)
                        adjoint_a[ia] += g / denominator;
                    if (into_b)
                        adjoint_b[ib] -= g * a[ia] / (denominator * denominator);
                }
            }
        });
    }
    return gradient_;
}

template <typename T>
std::vector<T> Evaluate(const Formula& formula, const Batch<T>& batch) {
    Evaluator<T> evaluator;
    const auto output = evaluator.Forward(Program(formula), batch);
    return std::vector<T>(output.begin(), output.end());
}

template class Evaluator<float>;
template class Evaluator<double>;
template std::vector<float> Evaluate(const Formula&, const Batch<float>&);
template std::vector<double> Evaluate(const Formula&, const Batch<double>&);

}  // namespace autoloss::expr
