#pragma once

#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "expr/evaluate.h"

namespace autoloss::expr {

// Input arrays read from JSON and owned here, for the CLI and tests.
struct BatchData {
    int rows = 0;
    int classes = 1;
    std::vector<std::vector<double>> inputs;  // per input of the set; empty when not given

    // A view for the evaluator (pointers into `inputs`).
    Batch<double> View() const;
};

// Reads one JSON object mapping input names of `formula`'s set (release names: X, Y, Z; X, Q,
// PY, NY; U, I, E) to nested arrays: [rows][classes] for the classification sets, [rows] for
// regression. Every input the formula reads must be present; all must agree in shape. Throws
// InputError naming `source`, the input and the offending index.
BatchData ReadBatchJson(const nlohmann::json& json,
                        const Formula& formula,
                        std::string_view source);

// `values` as nested arrays: [rows] for kRow, [rows][classes] for kFull.
nlohmann::json ToJson(std::span<const double> values, Extent extent, int rows, int classes);

}  // namespace autoloss::expr
