#pragma once

// Random formulas for property tests of the formula engine (the search has its own, richer
// generator; the engine's tests must not depend on it).

#include <random>
#include <vector>

#include "expr/formula.h"

namespace autoloss::expr::testing {

// A random tree of `set` with at most `max_depth` levels; every allowed operator and input can
// appear, constants are 1, 2 or 3.
inline void AppendRandom(SetKind set, int max_depth, std::mt19937_64& rng, std::vector<Node>* out) {
    const PrimitiveSet& primitives = PrimitiveSet::Get(set);
    std::vector<Op> ops;
    for (int k = 0; k < kOpCount; ++k) {
        const Op op = static_cast<Op>(k);
        if (Arity(op) > 0 && primitives.Allows(op)) {
            ops.push_back(op);
        }
    }
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    if (max_depth <= 1 || unit(rng) < 0.3) {
        if (unit(rng) < 0.8) {
            out->push_back(InputNode(static_cast<int>(rng() % primitives.inputs().size())));
        } else {
            out->push_back(ConstantNode(static_cast<double>(1 + rng() % 3)));
        }
        return;
    }
    const Op op = ops[rng() % ops.size()];
    out->push_back(OpNode(op));
    for (int k = 0; k < Arity(op); ++k) {
        AppendRandom(set, max_depth - 1, rng, out);
    }
}

inline Formula RandomFormula(SetKind set, int max_depth, std::mt19937_64& rng) {
    std::vector<Node> nodes;
    AppendRandom(set, max_depth, rng, &nodes);
    return Formula(set, std::move(nodes));
}

inline constexpr SetKind kAllSets[] = {SetKind::kClsMulti, SetKind::kClsBinary, SetKind::kReg};

}  // namespace autoloss::expr::testing
