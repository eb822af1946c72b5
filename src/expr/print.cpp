#include "expr/print.h"

#include <charconv>
#include <cmath>
#include <optional>
#include <set>
#include <vector>

#include "expr/stable_log.h"
#include "util/check.h"

namespace autoloss::expr {

namespace {

// Binding strength of a printed expression; an operand binding weaker than its context needs
// parentheses.
enum Precedence { kAdditive = 1, kMultiplicative = 2, kUnary = 3, kAtom = 4 };

struct Rendered {
    std::string text;
    int precedence;
    Extent extent;  // needed by the PyTorch notation to place broadcasts
};

std::string Parenthesize(const Rendered& operand, int at_least, bool latex = false) {
    if (operand.precedence >= at_least) {
        return operand.text;
    }
    return latex ? "\\left(" + operand.text + "\\right)" : "(" + operand.text + ")";
}

// Shared layout of the three expression notations: sums, products and negation print alike;
// the notations differ in their leaves, calls and a few special operators.
class Notation {
  public:
    explicit Notation(const PrimitiveSet& set) : set_(set) {}
    virtual ~Notation() = default;

    Rendered Leaf(const Node& node) const {
        if (node.op == Op::kConstant) {
            return {FormatConstant(node.value), kAtom, Extent::kScalar};
        }
        return {Letter(node.input), kAtom, set_.input_extent()};
    }

    virtual Rendered Operator(Op op, const std::vector<Rendered>& operands) const {
        const Extent extent = ResultExtent(
            op, operands[0].extent, operands.size() > 1 ? operands[1].extent : Extent::kScalar);
        switch (op) {
            case Op::kNeg: {
                // -(-a) rather than --a: the same tree, easier on the eye.
                const int needed = operands[0].text.starts_with("-") ? kAtom : kUnary;
                return {"-" + Wrap(operands[0], needed), kUnary, extent};
            }
            case Op::kAdd:
            case Op::kSub:
                return {Wrap(operands[0], kAdditive) + (op == Op::kAdd ? " + " : " - ") +
                            Wrap(operands[1], kAdditive + 1),
                        kAdditive,
                        extent};
            case Op::kMul:
                return {Wrap(operands[0], kMultiplicative) + MulSymbol() +
                            Wrap(operands[1], kMultiplicative + 1),
                        kMultiplicative,
                        extent};
            case Op::kDiv:
                return {Wrap(operands[0], kMultiplicative) + " / " +
                            Wrap(operands[1], kMultiplicative + 1),
                        kMultiplicative,
                        extent};
            default: {
                std::string text = std::string(Info(op).infix_name) + "(";
                for (std::size_t k = 0; k < operands.size(); ++k) {
                    text += (k > 0 ? ", " : "") + operands[k].text;
                }
                return {text + ")", kAtom, extent};
            }
        }
    }

    // Whether stable logs (expr/stable_log.h) are written as one function; the readable and
    // LaTeX forms show the formula as it is.
    virtual bool WritesStableLogs() const { return false; }

    // A stable log of `argument` as one function; only called where WritesStableLogs().
    virtual Rendered StableLogCall(StableLogKind, const Rendered& argument) const {
        AUTOLOSS_CHECK(false, "this notation writes logs literally");
        return argument;
    }

  protected:
    virtual std::string Letter(int input) const { return std::string(set_.inputs()[input].letter); }
    virtual std::string MulSymbol() const { return " * "; }
    virtual std::string Wrap(const Rendered& operand, int at_least) const {
        return Parenthesize(operand, at_least);
    }

    const PrimitiveSet& set_;
};

class LatexNotation : public Notation {
  public:
    using Notation::Notation;

    Rendered Operator(Op op, const std::vector<Rendered>& operands) const override {
        const Rendered& a = operands[0];
        const Extent extent =
            ResultExtent(op, a.extent, operands.size() > 1 ? operands[1].extent : Extent::kScalar);
        auto call = [&](std::string_view name) {
            return Rendered{std::string(name) + "\\left(" + a.text + "\\right)", kAtom, extent};
        };
        switch (op) {
            case Op::kDiv:
                return {"\\frac{" + a.text + "}{" + operands[1].text + "}", kAtom, extent};
            case Op::kDot:
                return {"\\left\\langle " + a.text + ", " + operands[1].text + " \\right\\rangle",
                        kAtom,
                        extent};
            case Op::kSqrt:
                return {"\\sqrt{" + a.text + "}", kAtom, extent};
            case Op::kAbs:
                return {"\\left|" + a.text + "\\right|", kAtom, extent};
            case Op::kExp:
                return call("\\exp");
            case Op::kLog:
                return call("\\log");
            case Op::kTanh:
                return call("\\tanh");
            case Op::kSin:
                return call("\\sin");
            case Op::kCos:
                return call("\\cos");
            case Op::kSig:
                return call("\\sigma");
            case Op::kRelu:
                return call("\\operatorname{ReLU}");
            case Op::kSoftplus:
                return call("\\operatorname{softplus}");
            case Op::kSoftmax:
                return call("\\operatorname{softmax}");
            case Op::kSgdf:
                return call("\\operatorname{S_{gd}}");
            case Op::kSalf:
                return call("\\operatorname{S_{al}}");
            case Op::kSerf:
                return call("\\operatorname{S_{erf}}");
            case Op::kSerfc:
                return call("\\operatorname{S_{erfc}}");
            default:
                return Notation::Operator(op, operands);
        }
    }

  protected:
    std::string Letter(int input) const override { return std::string(set_.inputs()[input].latex); }
    std::string MulSymbol() const override { return " \\cdot "; }
    std::string Wrap(const Rendered& operand, int at_least) const override {
        return Parenthesize(operand, at_least, /*latex=*/true);
    }
};

// PyTorch code. Per-sample values of the multi-class set are kept as [B, 1] (keepdim) so they
// broadcast along the classes exactly as the evaluator's row extent does.
class PytorchNotation : public Notation {
  public:
    explicit PytorchNotation(const PrimitiveSet& set)
        : Notation(set), reference_(std::string(set.inputs()[0].letter)) {}

    bool WritesStableLogs() const override { return true; }

    Rendered StableLogCall(StableLogKind kind, const Rendered& argument) const override {
        const std::string z = TensorText(argument);
        switch (kind) {
            case StableLogKind::kLogSigmoid:
                return {"F.logsigmoid(" + z + ")", kAtom, argument.extent};
            case StableLogKind::kLogOneMinusSigmoid:
                return {"F.logsigmoid(-(" + z + "))", kAtom, argument.extent};
            case StableLogKind::kLogSoftmax:
                break;
        }
        return {"torch.log_softmax(" + Spread(argument) + ", dim=1)",
                kAtom,
                ResultExtent(Op::kSoftmax, argument.extent)};
    }

    Rendered Operator(Op op, const std::vector<Rendered>& operands) const override {
        const Rendered& a = operands[0];
        const Extent extent =
            ResultExtent(op, a.extent, operands.size() > 1 ? operands[1].extent : Extent::kScalar);
        const std::string arg = TensorText(a);
        auto call = [&](std::string_view name) {
            return Rendered{std::string(name) + "(" + arg + ")", kAtom, extent};
        };
        switch (op) {
            case Op::kDiv:
                return {Wrap(a, kMultiplicative) + " / (" + operands[1].text + " + 1e-20)",
                        kMultiplicative,
                        extent};
            case Op::kLog:
                return {"torch.log(" + arg + " + 1e-20)", kAtom, extent};
            case Op::kExp:
                return {"torch.exp(torch.clamp(" + arg + ", max=88.0))", kAtom, extent};
            case Op::kSqrt:
                return call("torch.sqrt");
            case Op::kAbs:
                return call("torch.abs");
            case Op::kTanh:
                return call("torch.tanh");
            case Op::kRelu:
                return call("torch.relu");
            case Op::kSin:
                return call("torch.sin");
            case Op::kCos:
                return call("torch.cos");
            case Op::kSig:
                return call("torch.sigmoid");
            case Op::kSoftplus:
                return call("F.softplus");
            case Op::kSgdf:
            case Op::kSalf:
            case Op::kSerf:
            case Op::kSerfc:
                helpers_.insert(op);
                return call(std::string(Info(op).infix_name));
            case Op::kSoftmax:
                return {"torch.softmax(" + Spread(a) + ", dim=1)", kAtom, extent};
            case Op::kDot: {
                const Rendered product = Notation::Operator(Op::kMul, operands);
                if (product.extent == Extent::kScalar) {
                    return {Wrap(product, kMultiplicative) + " * " + reference_ + ".shape[1]",
                            kMultiplicative,
                            extent};
                }
                return {"torch.sum(" + Spread(product) + ", dim=1, keepdim=True)", kAtom, extent};
            }
            default:
                return Notation::Operator(op, operands);
        }
    }

    // The loss as returned: shaped into the set's per-sample output.
    std::string Output(const Rendered& root) const {
        if (root.extent > set_.output_extent()) {
            return "torch.sum(" + root.text + ", dim=1)";
        }
        if (root.extent == set_.output_extent()) {
            return root.text;
        }
        if (set_.kind() == SetKind::kClsMulti) {
            if (root.extent == Extent::kRow) {
                return Wrap(root, kAtom) + ".squeeze(1)";
            }
            return reference_ + ".new_zeros(" + reference_ + ".shape[0]) + " + root.text;
        }
        return "torch.zeros_like(" + reference_ + ") + " + Wrap(root, kAdditive + 1);
    }

    const std::set<Op>& helpers() const { return helpers_; }

  private:
    // Torch functions need a tensor: a constant subexpression becomes a 0-d tensor of the
    // inputs' dtype and device.
    std::string TensorText(const Rendered& value) const {
        return value.extent == Extent::kScalar ? reference_ + ".new_tensor(" + value.text + ")"
                                               : value.text;
    }

    // A value widened to the full [rows, classes] grid, for the class-wise operators.
    std::string Spread(const Rendered& value) const {
        if (value.extent == Extent::kFull) {
            return value.text;
        }
        return "torch.zeros_like(" + reference_ + ") + " + Wrap(value, kAdditive + 1);
    }

    std::string reference_;  // an input whose shape, dtype and device every result shares
    mutable std::set<Op> helpers_;
};

Rendered Render(const Formula& formula, const Notation& notation, int index, int* next) {
    const Node& node = formula.node(index);
    *next = index + 1;
    if (Arity(node.op) == 0) {
        return notation.Leaf(node);
    }
    if (const auto stable =
            notation.WritesStableLogs() ? MatchStableLog(formula, index) : std::nullopt) {
        int unused = 0;
        const Rendered argument = Render(formula, notation, stable->argument, &unused);
        *next = formula.SubtreeEnd(index);
        return notation.StableLogCall(stable->kind, argument);
    }
    std::vector<Rendered> operands;
    for (int k = 0; k < Arity(node.op); ++k) {
        operands.push_back(Render(formula, notation, *next, next));
    }
    return notation.Operator(node.op, operands);
}

Rendered Render(const Formula& formula, const Notation& notation) {
    int next = 0;
    return Render(formula, notation, 0, &next);
}

void AppendPrefix(const Formula& formula, int index, int* next, std::string* out) {
    const Node& node = formula.node(index);
    *next = index + 1;
    if (node.op == Op::kConstant) {
        *out += FormatConstant(node.value);
        return;
    }
    if (node.op == Op::kInput) {
        *out += formula.primitive_set().inputs()[node.input].name;
        return;
    }
    *out += Info(node.op).name;
    *out += '(';
    for (int k = 0; k < Arity(node.op); ++k) {
        if (k > 0) {
            *out += ',';
        }
        AppendPrefix(formula, *next, next, out);
    }
    *out += ')';
}

constexpr std::string_view kPytorchHelpers[] = {
    // Sgdf
    "def sgdf(v):\n"
    "    \"\"\"Scaled Gudermannian, range (0, 1).\"\"\"\n"
    "    g = 2 * torch.atan(torch.tanh(v * math.pi / 8))\n"
    "    return (2 * g / math.pi + 1) / 2\n",
    // Salf
    "def salf(v):\n"
    "    \"\"\"Scaled algebraic function, range (0, 1).\"\"\"\n"
    "    t = v / 2\n"
    "    return (t / torch.sqrt(1 + t * t) + 1) / 2\n",
    // Serf
    "def serf(v):\n"
    "    \"\"\"Scaled error function, range (0, 1).\"\"\"\n"
    "    return (torch.erf(math.sqrt(math.pi) / 2 * v / 2) + 1) / 2\n",
    // Serfc
    "def serfc(v):\n"
    "    \"\"\"1 - serf(v).\"\"\"\n"
    "    return 1 - (torch.erf(math.sqrt(math.pi) / 2 * v / 2) + 1) / 2\n",
};

}  // namespace

std::string FormatConstant(double value) {
    if (value == std::floor(value) && std::abs(value) < 1e15) {
        return std::to_string(static_cast<long long>(value));
    }
    char text[64];
    const auto result = std::to_chars(text, text + sizeof(text), value);
    return std::string(text, result.ptr);
}

std::string PrintPrefix(const Formula& formula) {
    std::string out;
    int next = 0;
    AppendPrefix(formula, 0, &next, &out);
    return out;
}

std::string PrintInfix(const Formula& formula) {
    return Render(formula, Notation(formula.primitive_set())).text;
}

std::string PrintLatex(const Formula& formula) {
    return Render(formula, LatexNotation(formula.primitive_set())).text;
}

std::string PrintPytorch(const Formula& formula, std::string_view function_name) {
    const PrimitiveSet& set = formula.primitive_set();
    const PytorchNotation notation(set);
    const Rendered root = Render(formula, notation);

    std::string code = "import math\n\nimport torch\nimport torch.nn.functional as F\n\n";
    for (Op op : notation.helpers()) {
        code += "\n" +
                std::string(kPytorchHelpers[static_cast<int>(op) - static_cast<int>(Op::kSgdf)]) +
                "\n";
    }
    std::string arguments;
    std::string argument_docs;
    for (const InputInfo& input : set.inputs()) {
        arguments += (arguments.empty() ? "" : ", ") + std::string(input.letter);
        argument_docs +=
            "        " + std::string(input.letter) + ": " + std::string(input.meaning) + "\n";
    }
    std::string returns = "[N]";
    if (set.kind() == SetKind::kClsMulti) {
        returns = "[B]";
    } else if (set.kind() == SetKind::kClsBinary) {
        returns =
            "[N, C]; the release multiplies it by alpha_t = 0.25 y + 0.75 (1 - y), sums "
            "and divides by the number of positives";
    }
    code += "\ndef " + std::string(function_name) + "(" + arguments + "):\n";
    code += "    \"\"\"Per-sample loss " + PrintPrefix(formula) + " (" + std::string(set.name()) +
            " set).\n\n";
    code += "    Args:\n" + argument_docs;
    code += "    Returns the loss per sample, " + std::string(returns) + ".\n    \"\"\"\n";
    code += "    return " + notation.Output(root) + "\n";
    return code;
}

}  // namespace autoloss::expr
