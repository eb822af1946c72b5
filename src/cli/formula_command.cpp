// `autoloss formula ...`: inspect and evaluate single formulas.

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "expr/batch_json.h"
#include "expr/evaluate.h"
#include "expr/parse.h"
#include "expr/print.h"
#include "expr/simplify.h"
#include "util/error.h"

namespace autoloss::cli {

namespace {

struct FormulaOptions {
    std::string formula;
    std::string set;
    std::string inputs;
    std::string grad;
    bool json = false;
};

expr::Formula ResolveArgument(const FormulaOptions& options) {
    return expr::ResolveFormula(options.formula, ParseSetOption(options.set));
}

void Show(const FormulaOptions& options) {
    const expr::Formula formula = ResolveArgument(options);
    const expr::Formula simplified = expr::Simplify(formula);
    nlohmann::json out = {
        {"set", formula.primitive_set().name()},
        {"prefix", expr::PrintPrefix(formula)},
        {"infix", expr::PrintInfix(formula)},
        {"simplified", expr::PrintInfix(simplified)},
        {"simplified_prefix", expr::PrintPrefix(simplified)},
        {"latex", expr::PrintLatex(formula)},
        {"size", formula.size()},
        {"depth", formula.Depth()},
        {"hash", expr::HashHex(formula.Hash())},
        {"pytorch", expr::PrintPytorch(formula)},
    };
    if (options.json) {
        std::cout << out.dump(2) << "\n";
        return;
    }
    for (const char* key : {"set", "prefix", "infix", "simplified", "simplified_prefix", "latex"}) {
        std::printf(
            "%-18s %s\n", (std::string(key) + ":").c_str(), out[key].get<std::string>().c_str());
    }
    std::printf("%-18s %d\n%-18s %d\n%-18s %s\n",
                "size:",
                formula.size(),
                "depth:",
                formula.Depth(),
                "hash:",
                out["hash"].get<std::string>().c_str());
    std::printf("pytorch:\n%s", out["pytorch"].get<std::string>().c_str());
}

void Eval(const FormulaOptions& options) {
    const expr::Formula formula = ResolveArgument(options);
    const expr::PrimitiveSet& set = formula.primitive_set();
    std::ifstream file(options.inputs);
    if (!file) {
        throw InputError(options.inputs, "cannot open the inputs file");
    }
    nlohmann::json json;
    try {
        json = nlohmann::json::parse(file);
    } catch (const nlohmann::json::parse_error& error) {
        throw InputError(options.inputs, std::string("malformed JSON: ") + error.what());
    }
    const expr::BatchData data = expr::ReadBatchJson(json, formula, options.inputs);
    std::optional<int> grad_input;
    if (!options.grad.empty()) {
        grad_input = set.FindInput(options.grad, false);
        if (!grad_input) {
            grad_input = set.FindInput(options.grad, true);
        }
        if (!grad_input) {
            throw InputError("--grad " + options.grad,
                             "not an input of the " + std::string(set.name()) + " set");
        }
        if (data.inputs[*grad_input].empty()) {
            throw InputError("--grad " + options.grad, "input not given in " + options.inputs);
        }
    }

    const expr::Program program(formula);
    const expr::Batch<double> batch = data.View();
    expr::Evaluator<double> evaluator;
    const auto values = evaluator.Forward(program, batch);
    nlohmann::json out = {
        {"value", expr::ToJson(values, set.output_extent(), data.rows, data.classes)}};
    if (grad_input) {
        const auto grad = evaluator.Backward(program, batch, *grad_input);
        out["grad"] = expr::ToJson(grad, set.input_extent(), data.rows, data.classes);
    }
    if (options.json) {
        std::cout << out.dump() << "\n";
        return;
    }
    std::printf(
        "formula: %s (%s)\n", expr::PrintInfix(formula).c_str(), std::string(set.name()).c_str());
    std::printf("value: %s\n", out["value"].dump().c_str());
    if (grad_input) {
        std::printf("grad d(sum value)/d%s: %s\n",
                    std::string(set.inputs()[*grad_input].name).c_str(),
                    out["grad"].dump().c_str());
    }
}

}  // namespace

std::optional<expr::SetKind> ParseSetOption(const std::string& text) {
    if (text.empty()) {
        return std::nullopt;
    }
    const auto kind = expr::PrimitiveSet::ParseKind(text);
    if (!kind) {
        throw InputError("--set " + text, "expected cls-multi, cls-binary or reg");
    }
    return kind;
}

void AddFormulaCommands(CLI::App& app) {
    CLI::App* formula = app.add_subcommand("formula", "Inspect and evaluate loss formulas");
    formula->require_subcommand(1);
    auto options = std::make_shared<FormulaOptions>();
    const std::string formula_help =
        "Formula in prefix (Neg(Log(Sig(X)))) or infix (-log(sig(x))) form, or a known loss name "
        "(ce, cei, fl, fli, iou, giou, cse-autoloss-{a,b}-{cls,reg})";
    const std::string set_help = "Primitive set: cls-multi, cls-binary or reg (default: inferred)";

    CLI::App* show = formula->add_subcommand(
        "show", "Print every text form, the simplified form, size, depth and hash");
    show->add_option("FORMULA", options->formula, formula_help)->required();
    show->add_option("--set", options->set, set_help);
    show->add_flag("--json", options->json, "Print one JSON object");
    show->callback([options] { Show(*options); });

    CLI::App* eval = formula->add_subcommand(
        "eval", "Evaluate on named input arrays, optionally with a gradient");
    eval->add_option("FORMULA", options->formula, formula_help)->required();
    eval->add_option("--set", options->set, set_help);
    eval->add_option("--inputs",
                     options->inputs,
                     "JSON object mapping the set's input names to nested arrays")
        ->required();
    eval->add_option("--grad",
                     options->grad,
                     "Also print the gradient of the summed loss with respect to this input");
    eval->add_flag("--json", options->json, "Print {\"value\": [...], \"grad\": [...]}");
    eval->callback([options] { Eval(*options); });
}

}  // namespace autoloss::cli
