#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <vector>

#include "expr/formula.h"

namespace autoloss::expr {

// Inputs of one evaluation: each input is a row-major array of shape [rows, classes] for the
// classification sets and [rows] for regression (classes must then be 1). Pointers are
// borrowed, indexed like the set's inputs; an input the formula does not read may be null.
template <typename T>
struct Batch {
    int rows = 0;
    int classes = 1;
    std::array<const T*, kMaxInputs> inputs{};
};

// One step of a compiled formula: compute slot `index` from the slots `a` and `b`.
struct Instruction {
    Op op;
    Extent extent;       // extent of the result, from broadcasting the operands
    std::uint8_t input;  // for kInput
    int a = -1;          // first operand's slot (unary and binary operators)
    int b = -1;          // second operand's slot (binary operators)
    double value = 0;    // for kConstant
    int node = -1;       // index of the formula node it computes
};

// A formula compiled for evaluation: instructions in dependency order, operands always earlier.
// The last instruction is the root. Independent of element type and batch size.
class Program {
  public:
    explicit Program(const Formula& formula);

    SetKind set() const { return set_; }
    std::span<const Instruction> instructions() const { return instructions_; }

  private:
    SetKind set_;
    std::vector<Instruction> instructions_;
};

// Evaluates programs on batches without libtorch, reusing its buffers between calls, so one
// evaluator screening many formulas allocates only while its batches grow. Not thread-safe:
// use one per thread.
template <typename T>
class Evaluator {
  public:
    // Per-sample loss of `program` on `batch`: [rows] for the multi-class and regression sets
    // (a class-wise root is summed over classes), [rows, classes] for the binary set; scalars
    // broadcast. The span stays valid until the next call.
    std::span<const T> Forward(const Program& program, const Batch<T>& batch);

    // Gradient of the sum of the per-sample losses of the last Forward() with respect to input
    // `input`, shaped like that input; zeros where the formula does not read it. Call right
    // after Forward() with the same program and batch.
    std::span<const T> Backward(const Program& program, const Batch<T>& batch, int input);

  private:
    std::size_t Size(Extent extent) const;

    int rows_ = 0;
    int classes_ = 1;
    std::vector<std::size_t> offsets_;  // start of each slot's values in values_ and adjoints_
    std::vector<T> values_;
    std::vector<T> adjoints_;
    std::vector<const T*> slot_values_;  // where each slot's values live (inputs are borrowed)
    std::vector<char> depends_;          // whether a slot depends on the differentiated input
    std::vector<T> output_;
    std::vector<T> gradient_;
};

// Convenience: the per-sample loss of `formula` on `batch`, as Evaluator::Forward.
template <typename T>
std::vector<T> Evaluate(const Formula& formula, const Batch<T>& batch);

}  // namespace autoloss::expr
