#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "expr/primitive_set.h"

namespace autoloss::cli {

// Each command group registers its subcommands on the root app; the callbacks throw
// InputError for bad input, which main() prints as "error: <context>: <message>".
void AddFormulaCommands(CLI::App& app);

// `formula check` (added to the `formula` group, so call after AddFormulaCommands) and `screen`:
// the cheap screening stages on one formula and on random formulas (screen_command.cpp).
void AddScreeningCommands(CLI::App& app);

// `eval-coco`: the COCO bbox metric of a results file against an instances file.
void AddEvalCocoCommands(CLI::App& app);

// `train`, `detect` and `bench train`: detectors trained with loss formulas (train_command.cpp).
void AddTrainCommands(CLI::App& app);

// `search`: the main job (pipeline/search_job.h).
void AddSearchCommands(CLI::App& app);

// Parses a --set value ("cls-multi", "cls-binary", "reg"); empty means "infer from the formula".
std::optional<expr::SetKind> ParseSetOption(const std::string& text);

}  // namespace autoloss::cli
