#pragma once

#include <span>

#include <ATen/core/Tensor.h>

#include "expr/formula.h"

namespace autoloss::expr {

// The per-sample loss of `formula` as libtorch operations, differentiable by autograd, with the
// evaluator's numerics and broadcasting. `inputs` are indexed like the set's inputs, each
// [rows, classes] for the classification sets or [rows] for regression, of one floating dtype
// and device; inputs the formula does not read may be undefined tensors, but the first input
// must be defined (it gives the shape, dtype and device of constants). Returns [rows] for the
// multi-class and regression sets and [rows, classes] for the binary set.
at::Tensor EvaluateTorch(const Formula& formula, std::span<const at::Tensor> inputs);

}  // namespace autoloss::expr
