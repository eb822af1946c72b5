#pragma once

#include <string>
#include <string_view>

#include "expr/formula.h"

namespace autoloss::expr {

// The release's prefix form, e.g. Neg(Dot(Y,Log(Softmax(X)))); Parse() reads it back exactly.
std::string PrintPrefix(const Formula& formula);

// The readable infix form in the paper's letters, e.g. -dot(y, log(softmax(x))), with just the
// parentheses needed for Parse() to rebuild the same tree.
std::string PrintInfix(const Formula& formula);

// LaTeX for a paper or a report (the 1e-20 guards of Log and Div are left implicit).
std::string PrintLatex(const Formula& formula);

// A self-contained Python module defining `function_name`, which computes the per-sample loss
// with PyTorch exactly as autoloss does (guards, clamps, S-curves, class-wise broadcasting),
// ready to paste into a training script.
std::string PrintPytorch(const Formula& formula, std::string_view function_name = "autoloss_loss");

// Constants as text: integers without a decimal point, others in the shortest form that reads
// back to the same double.
std::string FormatConstant(double value);

}  // namespace autoloss::expr
