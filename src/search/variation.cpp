#include "search/variation.h"

#include <functional>
#include <vector>

#include "util/check.h"

namespace autoloss::search {

namespace {

using expr::Formula;
using expr::Node;
using expr::Op;
using expr::SetKind;

// The operators and leaves a set draws from, split by arity, built once per set.
struct Alphabet {
    std::vector<Op> unary;
    std::vector<Op> binary;
    std::vector<Op> all;  // unary then binary
    int inputs = 0;
};

Alphabet BuildAlphabet(SetKind kind) {
    const expr::PrimitiveSet& set = expr::PrimitiveSet::Get(kind);
    Alphabet alphabet;
    for (int code = 0; code < expr::kOpCount; ++code) {
        const auto op = static_cast<Op>(code);
        if (!set.Allows(op) || expr::Arity(op) == 0) {
            continue;
        }
        (expr::Arity(op) == 1 ? alphabet.unary : alphabet.binary).push_back(op);
    }
    alphabet.all = alphabet.unary;
    alphabet.all.insert(alphabet.all.end(), alphabet.binary.begin(), alphabet.binary.end());
    alphabet.inputs = static_cast<int>(set.inputs().size());
    return alphabet;
}

const Alphabet& AlphabetOf(SetKind kind) {
    static const Alphabet multi = BuildAlphabet(SetKind::kClsMulti);
    static const Alphabet binary = BuildAlphabet(SetKind::kClsBinary);
    static const Alphabet reg = BuildAlphabet(SetKind::kReg);
    return kind == SetKind::kClsMulti ? multi : kind == SetKind::kClsBinary ? binary : reg;
}

// The constants of the search space (SPEC.md §1).
constexpr std::array<double, 3> kConstants = {1.0, 2.0, 3.0};

// A random leaf: one of the inputs or the constant symbol, uniformly.
Node RandomLeaf(const Alphabet& alphabet, Rng& rng) {
    const int pick = rng.Below(alphabet.inputs + 1);
    if (pick < alphabet.inputs) {
        return expr::InputNode(pick);
    }
    return expr::ConstantNode(kConstants[rng.Below(static_cast<int>(kConstants.size()))]);
}

// Appends a random subtree in prefix order. `depth` is the level of the node about to be made
// (1 at the root); `height` the drawn depth of the tree.
void Grow(const Alphabet& alphabet, bool full, int depth, int height, int min_depth, Rng& rng,
          std::vector<Node>& nodes) {
    // DEAP's rule: a leaf at the drawn height, and (grow only) from min_depth on with the
    // probability that a uniform pick over leaves and operators is a leaf.
    const int leaves = alphabet.inputs + 1;
    const int operators = static_cast<int>(alphabet.all.size());
    const bool leaf = depth >= height || (!full && depth >= min_depth &&
                                          rng.Below(leaves + operators) < leaves);
    if (leaf) {
        nodes.push_back(RandomLeaf(alphabet, rng));
        return;
    }
    const Op op = alphabet.all[rng.Below(operators)];
    nodes.push_back(expr::OpNode(op));
    for (int k = 0; k < expr::Arity(op); ++k) {
        Grow(alphabet, full, depth + 1, height, min_depth, rng, nodes);
    }
}

std::vector<Node> RandomNodes(SetKind set, TreeMethod method, int min_depth, int max_depth,
                              Rng& rng) {
    const bool full = method == TreeMethod::kFull ||
                      (method == TreeMethod::kHalfAndHalf && rng.Below(2) == 0);
    const int height = rng.Between(min_depth, max_depth);
    std::vector<Node> nodes;
    nodes.reserve(32);  // one allocation for nearly every tree the search draws
    Grow(AlphabetOf(set), full, 1, height, min_depth, rng, nodes);
    return nodes;
}

bool Fits(const Formula& formula, const VariationLimits& limits) {
    return formula.size() <= limits.max_size && formula.Depth() <= limits.max_depth;
}

// Indices of the nodes for which `keep` holds.
template <typename Predicate>
std::vector<int> Places(const Formula& formula, Predicate keep) {
    std::vector<int> places;
    for (int i = 0; i < formula.size(); ++i) {
        if (keep(formula.node(i))) {
            places.push_back(i);
        }
    }
    return places;
}

// The formula with node `index` replaced by `node` (same arity).
Formula WithNode(const Formula& formula, int index, const Node& node) {
    std::vector<Node> nodes(formula.nodes().begin(), formula.nodes().end());
    nodes[index] = node;
    return Formula(formula.set(), std::move(nodes));
}

}  // namespace

RandomTreeOptions MeanSizeEightTrees(SetKind set) {
    return RandomTreeOptions{TreeMethod::kHalfAndHalf, 3, set == SetKind::kClsBinary ? 8 : 7};
}

Formula RandomFormula(SetKind set, const RandomTreeOptions& options, Rng& rng) {
    AUTOLOSS_CHECK(options.min_depth >= 1 && options.min_depth <= options.max_depth &&
                       options.max_depth <= expr::kMaxDepth,
                   "random tree depth bounds");
    return Formula(set, RandomNodes(set, options.method, options.min_depth, options.max_depth,
                                    rng));
}

std::string_view MutationName(MutationKind kind) {
    switch (kind) {
        case MutationKind::kReplaceOperator:
            return "replace_operator";
        case MutationKind::kReplaceLeaf:
            return "replace_leaf";
        case MutationKind::kInsertUnary:
            return "insert_unary";
        case MutationKind::kReplaceSubtree:
            return "replace_subtree";
        case MutationKind::kHoist:
            return "hoist";
        case MutationKind::kShrink:
            return "shrink";
        case MutationKind::kChangeConstant:
            return "change_constant";
    }
    return "unknown";
}

std::optional<Formula> Mutate(const Formula& formula, MutationKind kind,
                              const VariationLimits& limits, Rng& rng) {
    const SetKind set = formula.set();
    const Alphabet& alphabet = AlphabetOf(set);
    auto is_operator = [](const Node& node) { return expr::Arity(node.op) > 0; };
    std::optional<Formula> result;
    switch (kind) {
        case MutationKind::kReplaceOperator: {
            const std::vector<int> places = Places(formula, is_operator);
            if (places.empty()) {
                return std::nullopt;
            }
            const int index = places[rng.Below(static_cast<int>(places.size()))];
            const Op old = formula.node(index).op;
            const std::vector<Op>& same = expr::Arity(old) == 1 ? alphabet.unary : alphabet.binary;
            if (same.size() < 2) {
                return std::nullopt;
            }
            // Draw among the others: uniform over the same-arity operators except `old`.
            Op op = same[rng.Below(static_cast<int>(same.size()) - 1)];
            if (op == old) {
                op = same.back();
            }
            result = WithNode(formula, index, expr::OpNode(op));
            break;
        }
        case MutationKind::kReplaceLeaf: {
            const std::vector<int> places = Places(formula, std::not_fn(is_operator));
            const int index = places[rng.Below(static_cast<int>(places.size()))];
            Node leaf = RandomLeaf(alphabet, rng);
            for (int tries = 0; leaf == formula.node(index) && tries < 16; ++tries) {
                leaf = RandomLeaf(alphabet, rng);
            }
            if (leaf == formula.node(index)) {
                return std::nullopt;
            }
            result = WithNode(formula, index, leaf);
            break;
        }
        case MutationKind::kInsertUnary: {
            const int index = rng.Below(formula.size());
            std::vector<Node> nodes(formula.nodes().begin(), formula.nodes().end());
            const Op op = alphabet.unary[rng.Below(static_cast<int>(alphabet.unary.size()))];
            nodes.insert(nodes.begin() + index, expr::OpNode(op));
            result = Formula(set, std::move(nodes));
            break;
        }
        case MutationKind::kReplaceSubtree: {
            const int index = rng.Below(formula.size());
            const Formula replacement(set, RandomNodes(set, TreeMethod::kGrow, 1, 3, rng));
            if (replacement == formula.Subtree(index)) {
                return std::nullopt;
            }
            result = formula.ReplaceSubtree(index, replacement);
            break;
        }
        case MutationKind::kHoist: {
            const std::vector<int> places = Places(formula, is_operator);
            if (places.empty()) {
                return std::nullopt;
            }
            const int index = places[rng.Below(static_cast<int>(places.size()))];
            const int end = formula.SubtreeEnd(index);
            const int inner = index + 1 + rng.Below(end - index - 1);
            result = formula.ReplaceSubtree(index, formula.Subtree(inner));
            break;
        }
        case MutationKind::kShrink: {
            const std::vector<int> places = Places(formula, is_operator);
            if (places.empty()) {
                return std::nullopt;
            }
            const int index = places[rng.Below(static_cast<int>(places.size()))];
            result = formula.ReplaceSubtree(index, Formula(set, {RandomLeaf(alphabet, rng)}));
            break;
        }
        case MutationKind::kChangeConstant: {
            const std::vector<int> places =
                Places(formula, [](const Node& node) { return node.op == Op::kConstant; });
            if (places.empty()) {
                return std::nullopt;
            }
            const int index = places[rng.Below(static_cast<int>(places.size()))];
            const double old = formula.node(index).value;
            double value = kConstants[rng.Below(static_cast<int>(kConstants.size()))];
            while (value == old) {
                value = kConstants[rng.Below(static_cast<int>(kConstants.size()))];
            }
            result = WithNode(formula, index, expr::ConstantNode(value));
            break;
        }
    }
    if (!result || *result == formula || !Fits(*result, limits)) {
        return std::nullopt;
    }
    return result;
}

std::optional<std::pair<Formula, MutationKind>> MutateAny(const Formula& formula,
                                                          const VariationLimits& limits,
                                                          Rng& rng) {
    for (int tries = 0; tries < 64; ++tries) {
        const auto kind = static_cast<MutationKind>(rng.Below(kMutationKindCount));
        if (auto result = Mutate(formula, kind, limits, rng)) {
            return std::make_pair(std::move(*result), kind);
        }
    }
    return std::nullopt;
}

std::pair<Formula, Formula> Crossover(const Formula& a, const Formula& b,
                                      const VariationLimits& limits, Rng& rng) {
    AUTOLOSS_CHECK(a.set() == b.set(), "crossover across primitive sets");
    for (int tries = 0; tries < 16; ++tries) {
        const int i = rng.Below(a.size());
        const int j = rng.Below(b.size());
        Formula first = a.ReplaceSubtree(i, b.Subtree(j));
        Formula second = b.ReplaceSubtree(j, a.Subtree(i));
        if (Fits(first, limits) && Fits(second, limits)) {
            return {std::move(first), std::move(second)};
        }
    }
    return {a, b};
}

}  // namespace autoloss::search
