#pragma once

#include <span>
#include <string_view>

#include "expr/formula.h"

namespace autoloss::expr {

// A published loss written in the search space (SPEC.md §2), usable by name wherever a formula
// is accepted.
struct KnownLoss {
    std::string_view name;  // lowercase, e.g. "cse-autoloss-b-cls"
    SetKind set;
    std::string_view prefix;  // the formula in the release's prefix form
    std::string_view description;

    // The parsed formula.
    expr::Formula Parsed() const;
};

// Every known loss: CE, CEI, FL, FLI, IoU, GIoU and the four CSE-Autoloss results.
std::span<const KnownLoss> KnownLosses();

// The known loss called `name` (case-insensitive), or null.
const KnownLoss* FindKnownLoss(std::string_view name);

// The default loss of a branch when it is not searched: CE, FL or GIoU (SPEC.md §3 step 3).
const KnownLoss& DefaultLoss(SetKind set);

// The search's initial loss L_I: CEI, FLI or GIoU (SPEC.md §3).
const KnownLoss& InitialLoss(SetKind set);

}  // namespace autoloss::expr
