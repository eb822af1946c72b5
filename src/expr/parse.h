#pragma once

#include <optional>
#include <string_view>

#include "expr/formula.h"

namespace autoloss::expr {

// The text forms a formula can be read from.
enum class TextForm {
    kAuto,    // prefix when the text starts with a release operator or input name, else infix
    kPrefix,  // the release's form: Neg(Dot(Mul(Y,Add(1,Sin(Z))),Log(Softmax(X))))
    kInfix,   // the readable form in the paper's letters: -dot((1 + sin(w)) * y, log(softmax(x)))
};

struct ParseOptions {
    TextForm form = TextForm::kAuto;
    // The search space has the constants 1, 2 and 3 only; simplified formulas may fold others
    // (any finite non-negative number), which this admits.
    bool any_constant = false;
};

// Parses `text` as a formula of set `set`. Throws InputError naming the offending token and
// its 1-based character position: unbalanced parentheses, unknown operators or inputs, wrong
// arity, operators or inputs outside the set, disallowed constants, nesting deeper than
// kMaxDepth, empty text.
Formula Parse(std::string_view text, SetKind set, const ParseOptions& options = {});

// Parses `text` without a known set: the first of cls-multi, cls-binary, reg in which it is
// valid. Throws the error of the set in which parsing got furthest when none accepts it.
Formula ParseAnySet(std::string_view text, const ParseOptions& options = {});

// Resolves what a user typed where a formula is expected: a known loss name (`giou`,
// `cse-autoloss-b-cls`, see known_losses.h) or formula text. With `set`, a name from another
// set, or text invalid in `set`, is an error.
Formula ResolveFormula(std::string_view text,
                       std::optional<SetKind> set = std::nullopt,
                       const ParseOptions& options = {});

}  // namespace autoloss::expr
