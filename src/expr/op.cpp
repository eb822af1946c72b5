#include "expr/op.h"

namespace autoloss::expr {

std::optional<Op> FindOp(std::string_view name, bool infix) {
    for (const OpInfo& info : detail::kOps) {
        if (info.arity > 0 && (infix ? info.infix_name : info.name) == name) {
            return info.op;
        }
    }
    return std::nullopt;
}

}  // namespace autoloss::expr
