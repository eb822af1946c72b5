#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "expr/op.h"
#include "expr/primitive_set.h"

namespace autoloss::expr {

// One node of a formula in prefix order.
struct Node {
    Op op = Op::kConstant;
    std::uint8_t input = 0;  // index into the set's inputs when op == kInput
    double value = 0.0;      // the constant when op == kConstant; finite and >= 0

    bool operator==(const Node&) const = default;
};

// Formulas nest at most this deep; the parsers refuse deeper text, so every recursive walk over
// a formula stays far from the stack limit.
inline constexpr int kMaxDepth = 200;

// A loss formula: a tree over one primitive set, stored as a flat array of nodes in prefix
// order (each operator followed by its operands' subtrees). Cheap to copy, hash and compare;
// the array is always a single well-formed tree with at most kMaxDepth levels.
class Formula {
  public:
    // Builds from prefix-ordered nodes; aborts unless they form one tree valid in `set`
    // (parsers check user text first and report errors properly).
    Formula(SetKind set, std::vector<Node> nodes);

    // A single leaf: input `index` of `set`.
    static Formula Input(SetKind set, int index);

    SetKind set() const { return set_; }
    const PrimitiveSet& primitive_set() const { return PrimitiveSet::Get(set_); }
    std::span<const Node> nodes() const { return nodes_; }
    const Node& node(int index) const { return nodes_[index]; }

    // Number of nodes.
    int size() const { return static_cast<int>(nodes_.size()); }

    // Nodes on the longest root-to-leaf path (a lone leaf has depth 1).
    int Depth() const;

    // One past the last node of the subtree rooted at `index`.
    int SubtreeEnd(int index) const;

    // The subtree rooted at `index` as a formula of its own.
    Formula Subtree(int index) const;

    // This formula with the subtree at `index` replaced by `replacement` (same set).
    Formula ReplaceSubtree(int index, const Formula& replacement) const;

    // Structural hash of the set and the node sequence (operand order matters).
    std::uint64_t Hash() const;

    // Whether any node reads input `index`.
    bool Uses(int index) const;

    bool operator==(const Formula&) const = default;

  private:
    SetKind set_;
    std::vector<Node> nodes_;
};

// Builders for prefix node arrays, used by known losses, tests and the variation operators.
Node InputNode(int index);
Node ConstantNode(double value);
Node OpNode(Op op);

// Checks that `nodes` form exactly one tree of valid nodes for `set`; returns an empty string
// when they do, otherwise what is wrong.
std::string Validate(SetKind set, std::span<const Node> nodes);

// Hash as 16 lowercase hex digits.
std::string HashHex(std::uint64_t hash);

}  // namespace autoloss::expr
