#include "expr/formula.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "util/check.h"

namespace autoloss::expr {

Formula::Formula(SetKind set, std::vector<Node> nodes) : set_(set), nodes_(std::move(nodes)) {
    const std::string problem = Validate(set_, nodes_);
    AUTOLOSS_CHECK(problem.empty(), problem.c_str());
}

Formula Formula::Input(SetKind set, int index) {
    return Formula(set, {InputNode(index)});
}

int Formula::Depth() const {
    // Walk the prefix array from the back: each operator's depth is one more than the deepest
    // of its operands, whose depths sit on top of the stack.
    std::vector<int> stack;
    stack.reserve(nodes_.size());
    for (int i = size() - 1; i >= 0; --i) {
        int deepest = 0;
        for (int k = 0; k < Arity(nodes_[i].op); ++k) {
            deepest = std::max(deepest, stack.back());
            stack.pop_back();
        }
        stack.push_back(deepest + 1);
    }
    return stack.back();
}

int Formula::SubtreeEnd(int index) const {
    int open = 1;
    int i = index;
    while (open > 0) {
        open += Arity(nodes_[i].op) - 1;
        ++i;
    }
    return i;
}

Formula Formula::Subtree(int index) const {
    return Formula(set_,
                   std::vector<Node>(nodes_.begin() + index, nodes_.begin() + SubtreeEnd(index)));
}

Formula Formula::ReplaceSubtree(int index, const Formula& replacement) const {
    AUTOLOSS_CHECK(replacement.set_ == set_, "replacement from another primitive set");
    std::vector<Node> nodes(nodes_.begin(), nodes_.begin() + index);
    nodes.insert(nodes.end(), replacement.nodes_.begin(), replacement.nodes_.end());
    nodes.insert(nodes.end(), nodes_.begin() + SubtreeEnd(index), nodes_.end());
    return Formula(set_, std::move(nodes));
}

std::uint64_t Formula::Hash() const {
    // FNV-1a over (set, op, input, constant bits) of every node: stable across runs and
    // machines, so hashes can be stored in a search record.
    std::uint64_t hash = 14695981039346656037ull;
    auto mix = [&hash](std::uint64_t word) {
        for (int byte = 0; byte < 8; ++byte) {
            hash ^= (word >> (8 * byte)) & 0xff;
            hash *= 1099511628211ull;
        }
    };
    mix(static_cast<std::uint64_t>(set_));
    for (const Node& node : nodes_) {
        mix(static_cast<std::uint64_t>(node.op) | (static_cast<std::uint64_t>(node.input) << 8));
        if (node.op == Op::kConstant) {
            std::uint64_t bits = 0;
            std::memcpy(&bits, &node.value, sizeof(bits));
            mix(bits);
        }
    }
    return hash;
}

bool Formula::Uses(int index) const {
    for (const Node& node : nodes_) {
        if (node.op == Op::kInput && node.input == index) {
            return true;
        }
    }
    return false;
}

Node InputNode(int index) {
    return Node{Op::kInput, static_cast<std::uint8_t>(index), 0.0};
}

Node ConstantNode(double value) {
    return Node{Op::kConstant, 0, value};
}

Node OpNode(Op op) {
    return Node{op, 0, 0.0};
}

std::string Validate(SetKind set, std::span<const Node> nodes) {
    const PrimitiveSet& primitives = PrimitiveSet::Get(set);
    if (nodes.empty()) {
        return "a formula needs at least one node";
    }
    // `open` counts operand slots still to fill; a prefix array is one tree exactly when it
    // never runs out of slots before the last node and has none left after it. `pending` holds,
    // per operator on the path to the current node, its operands still to come (a fixed array:
    // the constructor runs for every candidate a search makes).
    int open = 1;
    std::array<int, kMaxDepth + 1> pending;
    int path = 0;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (open == 0) {
            return "nodes after the end of the tree at node " + std::to_string(i);
        }
        const Node& node = nodes[i];
        if (static_cast<int>(node.op) >= kOpCount) {
            return "unknown operator code at node " + std::to_string(i);
        }
        if (!primitives.Allows(node.op)) {
            return "operator " + std::string(Info(node.op).name) + " not in set " +
                   std::string(primitives.name());
        }
        if (node.op == Op::kInput && node.input >= primitives.inputs().size()) {
            return "input index out of range at node " + std::to_string(i);
        }
        if (node.op == Op::kConstant && !(std::isfinite(node.value) && node.value >= 0.0)) {
            return "constant must be finite and non-negative at node " + std::to_string(i);
        }
        const int arity = Arity(node.op);
        open += arity - 1;
        while (path > 0 && pending[path - 1] == 0) {
            --path;
        }
        if (path > 0) {
            --pending[path - 1];
        }
        // This node sits path + 1 levels deep.
        if (path + 1 > kMaxDepth) {
            return "formula deeper than " + std::to_string(kMaxDepth) + " levels";
        }
        if (arity > 0) {
            pending[path++] = arity;
        }
    }
    if (open != 0) {
        return "tree incomplete: " + std::to_string(open) + " operand(s) missing";
    }
    return "";
}

std::string HashHex(std::uint64_t hash) {
    char text[17];
    std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(hash));
    return text;
}

}  // namespace autoloss::expr
