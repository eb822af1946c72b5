#include "expr/batch_json.h"

#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace autoloss::expr {

namespace {

double ReadNumber(const nlohmann::json& value, const std::string& where, std::string_view source) {
    if (!value.is_number()) {
        throw InputError(std::string(source), where + " must be a number, found " + value.dump());
    }
    return value.get<double>();
}

}  // namespace

Batch<double> BatchData::View() const {
    Batch<double> batch{rows, classes, {}};
    for (std::size_t k = 0; k < inputs.size(); ++k) {
        batch.inputs[k] = inputs[k].empty() ? nullptr : inputs[k].data();
    }
    return batch;
}

BatchData ReadBatchJson(const nlohmann::json& json,
                        const Formula& formula,
                        std::string_view source) {
    const PrimitiveSet& set = formula.primitive_set();
    const std::string where(source);
    if (!json.is_object()) {
        throw InputError(where, "expected one object mapping input names to arrays");
    }
    BatchData data;
    data.inputs.resize(set.inputs().size());
    const bool classwise = set.input_extent() == Extent::kFull;
    int rows = -1;
    int classes = -1;
    for (const auto& [name, array] : json.items()) {
        const auto index = set.FindInput(name, /*infix=*/false);
        if (!index) {
            std::string known;
            for (const InputInfo& input : set.inputs()) {
                known += (known.empty() ? "" : ", ") + std::string(input.name);
            }
            throw InputError(where,
                             "'" + name + "' is not an input of the " + std::string(set.name()) +
                                 " set (inputs: " + known + ")");
        }
        const std::string shape = classwise ? "[rows][classes]" : "[rows]";
        if (!array.is_array() || array.empty()) {
            throw InputError(where, "input " + name + " must be a non-empty array " + shape);
        }
        if (rows >= 0 && static_cast<int>(array.size()) != rows) {
            throw InputError(where,
                             "input " + name + " has " + std::to_string(array.size()) +
                                 " rows, other inputs have " + std::to_string(rows));
        }
        rows = static_cast<int>(array.size());
        std::vector<double>& values = data.inputs[*index];
        for (std::size_t r = 0; r < array.size(); ++r) {
            const std::string row_name = name + "[" + std::to_string(r) + "]";
            if (!classwise) {
                values.push_back(ReadNumber(array[r], row_name, source));
                continue;
            }
            if (!array[r].is_array() || array[r].empty()) {
                throw InputError(where,
                                 row_name + " must be a non-empty array (shape " + shape + ")");
            }
            if (classes >= 0 && static_cast<int>(array[r].size()) != classes) {
                throw InputError(where,
                                 row_name + " has " + std::to_string(array[r].size()) +
                                     " classes, expected " + std::to_string(classes));
            }
            classes = static_cast<int>(array[r].size());
            for (std::size_t c = 0; c < array[r].size(); ++c) {
                values.push_back(
                    ReadNumber(array[r][c], row_name + "[" + std::to_string(c) + "]", source));
            }
        }
    }
    for (std::size_t k = 0; k < set.inputs().size(); ++k) {
        if (formula.Uses(static_cast<int>(k)) && data.inputs[k].empty()) {
            throw InputError(where,
                             "the formula reads input " + std::string(set.inputs()[k].name) +
                                 ", which is missing");
        }
    }
    if (rows < 0) {
        throw InputError(where, "no inputs given");
    }
    data.rows = rows;
    data.classes = classwise ? classes : 1;
    return data;
}

nlohmann::json ToJson(std::span<const double> values, Extent extent, int rows, int classes) {
    nlohmann::json out = nlohmann::json::array();
    for (int r = 0; r < rows; ++r) {
        if (extent == Extent::kRow) {
            out.push_back(values[r]);
            continue;
        }
        nlohmann::json row = nlohmann::json::array();
        for (int c = 0; c < classes; ++c) {
            row.push_back(values[static_cast<std::size_t>(r) * classes + c]);
        }
        out.push_back(std::move(row));
    }
    return out;
}

}  // namespace autoloss::expr
