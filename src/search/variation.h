#pragma once

#include <array>
#include <optional>
#include <string_view>
#include <utility>

#include "expr/formula.h"
#include "search/random.h"

namespace autoloss::search {

// How random trees are shaped (Koza's methods, as DEAP implements them).
enum class TreeMethod : std::uint8_t {
    kGrow,         // leaves may appear at any depth from min_depth on
    kFull,         // every leaf at exactly the drawn depth
    kHalfAndHalf,  // grow or full with equal probability
};

// Shape of random formulas. Depth counts nodes on the longest path (a leaf has depth 1); the
// depth of each tree is drawn uniformly from [min_depth, max_depth].
struct RandomTreeOptions {
    TreeMethod method = TreeMethod::kHalfAndHalf;
    int min_depth = 2;
    int max_depth = 6;
};

// Half-and-half options whose trees have a mean size of about 8 nodes in `set`, the stream the
// paper's screening speed was measured on. Measured over 2·10^5 trees: depth 3 to 7 gives 7.8
// nodes (cls-multi) and 8.1 (reg); the binary set, one operator fewer, needs 3 to 8 for 8.1.
RandomTreeOptions MeanSizeEightTrees(expr::SetKind set);

// Bounds every variation respects; an offspring beyond them is discarded and redrawn. The
// defaults leave room around the largest published losses (FLI: 30 nodes, depth 8;
// CSE-Autoloss-B cls: 37 nodes, depth 10).
struct VariationLimits {
    int max_depth = 12;
    int max_size = 48;
};

// A random formula of `set`: operators uniform over the set's operators, leaves uniform over
// its inputs and one constant symbol (whose value is drawn from 1, 2, 3), as the paper's
// DEAP search space draws them.
expr::Formula RandomFormula(expr::SetKind set, const RandomTreeOptions& options, Rng& rng);

// The kinds of mutation (issue #3): each changes one random place of the formula.
enum class MutationKind : std::uint8_t {
    kReplaceOperator,  // an operator by another of the same arity
    kReplaceLeaf,      // an input or constant by a different leaf
    kInsertUnary,      // wrap a subtree in a random unary operator
    kReplaceSubtree,   // a subtree by a random one (grow, depth 1 to 3)
    kHoist,            // a subtree by one of its own proper subtrees
    kShrink,           // a subtree by a random leaf
    kChangeConstant,   // a constant by another of 1, 2, 3
};

inline constexpr int kMutationKindCount = static_cast<int>(MutationKind::kChangeConstant) + 1;

// Snake-case name of `kind`, e.g. "replace_operator", as written to search records.
std::string_view MutationName(MutationKind kind);

// `formula` changed by one mutation of `kind` at a random place, or nullopt when the formula has
// no place for it (no constant to change, no operator to hoist from) or the result would break
// `limits`. The result always differs from `formula`.
std::optional<expr::Formula> Mutate(const expr::Formula& formula,
                                    MutationKind kind,
                                    const VariationLimits& limits,
                                    Rng& rng);

// A mutation of a random kind, redrawn (kind and place) until one applies; returns the kind
// used. After many failed draws (only for formulas where nothing applies) returns nullopt.
std::optional<std::pair<expr::Formula, MutationKind>> MutateAny(const expr::Formula& formula,
                                                                const VariationLimits& limits,
                                                                Rng& rng);

// Subtree crossover: swaps a random subtree of `a` with a random subtree of `b` (same set),
// redrawing the places until both offspring fit `limits`; the parents unchanged after many
// failed draws.
std::pair<expr::Formula, expr::Formula> Crossover(const expr::Formula& a,
                                                  const expr::Formula& b,
                                                  const VariationLimits& limits,
                                                  Rng& rng);

}  // namespace autoloss::search
