#pragma once

#include <optional>

#include "expr/formula.h"

namespace autoloss::expr {

// Logs that the libtorch lowering and the exported PyTorch code compute as one numerically
// stable function. Literally, ln(sig(x) + 1e-20) has no gradient in float32 once x < -46, and
// ln(1 - sig(x) + 1e-20) none once x > 17, where sig(x) rounds to 1, so a logit pushed there by
// one bad step never comes back; log-sigmoid and log-softmax keep a gradient of magnitude about
// 1 and equal the literal forms to float precision wherever |x| < 30 (the screening evaluator,
// whose probes stay inside that range, computes them literally).
enum class StableLogKind {
    kLogSigmoid,         // Log(Sig(z)) = log_sigmoid(z)
    kLogOneMinusSigmoid,  // Log(Sub(1, Sig(z))) or Log(Add(1, Neg(Sig(z)))) = log_sigmoid(-z)
    kLogSoftmax,         // Log(Softmax(z)) = log_softmax(z)
};

struct StableLog {
    StableLogKind kind;
    int argument;  // node index of z
};

// Whether node `index` of `formula` is one of those logs, and of what.
std::optional<StableLog> MatchStableLog(const Formula& formula, int index);

}  // namespace autoloss::expr
