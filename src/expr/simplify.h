#pragma once

#include "expr/formula.h"

namespace autoloss::expr {

// A simpler formula computing the same function, for display and export. Bottom-up, it folds
// constant subexpressions (Softmax and Dot excepted: they depend on the class count) and
// removes identities: Neg(Neg(a)), Add(a,0), Sub(a,0), Sub(0,a) → Neg(a), Sub(a,a) → 0,
// Mul(a,±1), Div(a,±1), Add(a,Neg(b)) → Sub(a,b), Sub(a,Neg(b)) → Add(a,b),
// Neg(Sub(a,b)) → Sub(b,a), Abs(Neg(a)), Abs(Abs(a)), Relu(Relu(a)), and Div(a,a) → 1 where
// a is provably at least 1e-7 (U, E, positive constants and their sums and products).
//
// A multi-class root that loses its class dimension this way (Sub(Y,Y) → 0) is wrapped in
// Dot(r, 1), which keeps the sum over classes that a class-wise root gets.
//
// Tolerance: all rewrites are exact in IEEE arithmetic for finite operands except Div(a,a),
// whose original value a/(a+1e-20) differs from 1 by at most 1e-13 relative, far below float
// precision (6e-8). A NaN or inf that the original produces inside a removed subexpression
// (Sub(Log(Neg(X)),Log(Neg(X))), say) is not kept: screen the original, not the simplified form.
// Folded constants may be any non-negative real (negative ones print as Neg(c)); read the result
// back with ParseOptions::any_constant. Idempotent: Simplify(Simplify(f)) == Simplify(f).
Formula Simplify(const Formula& formula);

}  // namespace autoloss::expr
