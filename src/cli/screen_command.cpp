// `autoloss formula check` and `autoloss screen`: the cheap screening stages (src/check) on one
// formula, and on a stream of random formulas.

#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "check/screener.h"
#include "cli/commands.h"
#include "expr/parse.h"
#include "expr/print.h"
#include "search/screening.h"
#include "util/error.h"

namespace autoloss::cli {

namespace {

struct CheckOptions {
    std::string formula;
    std::string set;
    bool json = false;
};

struct ScreenOptions {
    std::string set;
    std::int64_t count = 100000;
    std::uint64_t seed = 0;
    int threads = 1;
    bool json = false;
};

nlohmann::json ReasonJson(const check::Verdict& verdict) {
    return verdict.passed() ? nlohmann::json(nullptr)
                            : nlohmann::json(std::string(check::ReasonCode(verdict.reason)));
}

// JSON has no infinities or NaN: those become null.
nlohmann::json Number(double value) {
    return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

nlohmann::json Numbers(const std::vector<double>& values) {
    nlohmann::json array = nlohmann::json::array();
    for (double value : values) {
        array.push_back(Number(value));
    }
    return array;
}

std::string_view CurveKindName(check::CurveKind kind) {
    switch (kind) {
        case check::CurveKind::kPositive:
            return "positive_score";
        case check::CurveKind::kNegative:
            return "negative_score";
        case check::CurveKind::kTranslation:
            return "translation";
        case check::CurveKind::kDiagonal:
            return "diagonal_translation";
        case check::CurveKind::kGrow:
            return "grow";
        case check::CurveKind::kShrink:
            return "shrink";
        case check::CurveKind::kAspect:
            return "aspect";
        case check::CurveKind::kScatter:
            return "scatter";
    }
    return "unknown";
}

nlohmann::json StageJson(const check::Verdict& verdict, expr::SetKind set) {
    nlohmann::json stage = {
        {"passed", verdict.passed()},
        {"reason", ReasonJson(verdict)},
        {"description", check::Describe(verdict, set)},
    };
    if (!verdict.passed()) {
        stage["where"] = {{"curve", verdict.curve},
                          {"at", Number(verdict.at)},
                          {"weight", Number(verdict.weight)},
                          {"before", Number(verdict.before)},
                          {"after", Number(verdict.after)},
                          {"on_gradient", verdict.on_gradient}};
    }
    return stage;
}

void Check(const CheckOptions& options) {
    const expr::Formula formula =
        expr::ResolveFormula(options.formula, ParseSetOption(options.set));
    const expr::SetKind set = formula.set();
    const expr::Program program(formula);
    check::Screener screener(set);

    // Every stage runs, so a rejected formula still shows all its numbers; the verdict is the
    // first failing stage's, as the search would see it.
    const check::Verdict validity = screener.Validity(formula, program);
    std::vector<check::CurveReport> curves;
    const check::Verdict convergence = screener.Convergence(program, &curves);
    check::Fingerprint fingerprint = 0;
    const check::Verdict equivalence = screener.Equivalence(program, &fingerprint);
    const check::Verdict* first = !validity.passed()      ? &validity
                                  : !convergence.passed() ? &convergence
                                  : !equivalence.passed() ? &equivalence
                                                          : nullptr;
    const char* first_stage = first == &validity      ? "validity"
                              : first == &convergence ? "convergence"
                              : first == &equivalence ? "equivalence"
                                                      : nullptr;

    nlohmann::json curves_json = nlohmann::json::array();
    nlohmann::json tail_json = nlohmann::json::array();
    for (const check::CurveReport& report : curves) {
        nlohmann::json curve = {
            {"kind", CurveKindName(report.curve.kind)},
            {"weight", report.curve.weight},
            {"strict", report.curve.strict},
            {"monotone_until", Number(report.curve.monotone_until)},
            {"params", Numbers(report.curve.params)},
            {"loss", Numbers(report.values)},
        };
        if (!report.gradients.empty()) {
            curve["grad"] = Numbers(report.gradients);
            if (report.curve.strict) {
                // The gradient tail: |dL/ds| over the last grid points, where it must vanish.
                nlohmann::json s = nlohmann::json::array();
                nlohmann::json magnitude = nlohmann::json::array();
                for (std::size_t k = report.values.size() - 4; k < report.values.size(); ++k) {
                    s.push_back(report.curve.params[k]);
                    magnitude.push_back(Number(std::abs(report.gradients[k])));
                }
                tail_json.push_back({{"weight", report.curve.weight},
                                     {"test_class", report.curve.test_class},
                                     {"s", s},
                                     {"abs_grad", magnitude}});
            }
        }
        curves_json.push_back(std::move(curve));
    }

    nlohmann::json out = {
        {"formula", expr::PrintPrefix(formula)},
        {"infix", expr::PrintInfix(formula)},
        {"set", expr::PrimitiveSet::Get(set).name()},
        {"passed", first == nullptr},
        {"reason", first == nullptr ? nlohmann::json(nullptr) : ReasonJson(*first)},
        {"stage", first_stage == nullptr ? nlohmann::json(nullptr) : nlohmann::json(first_stage)},
        {"description", first == nullptr ? "passed" : check::Describe(*first, set)},
        {"fingerprint",
         equivalence.passed() ? nlohmann::json(check::FingerprintHex(fingerprint))
                              : nlohmann::json(nullptr)},
    };
    out["stages"]["validity"] = StageJson(validity, set);
    out["stages"]["convergence"] = StageJson(convergence, set);
    out["stages"]["convergence"]["curves"] = curves_json;
    if (!tail_json.empty()) {
        out["stages"]["convergence"]["gradient_tail"] = tail_json;
    }
    out["stages"]["equivalence"] = StageJson(equivalence, set);
    out["stages"]["equivalence"]["fingerprint"] = out["fingerprint"];
    if (options.json) {
        std::cout << out.dump() << "\n";
        return;
    }
    std::printf("formula:      %s (%s)\n",
                out["infix"].get<std::string>().c_str(),
                std::string(expr::PrimitiveSet::Get(set).name()).c_str());
    for (const char* stage : {"validity", "convergence", "equivalence"}) {
        const nlohmann::json& s = out["stages"][stage];
        std::printf("%-13s %s%s%s\n",
                    (std::string(stage) + ":").c_str(),
                    s["passed"].get<bool>() ? "passed" : "rejected: ",
                    s["passed"].get<bool>() ? "" : s["reason"].get<std::string>().c_str(),
                    s["passed"].get<bool>()
                        ? ""
                        : (" (" + s["description"].get<std::string>() + ")").c_str());
    }
    for (const nlohmann::json& tail : tail_json) {
        std::printf("gradient tail (w=%g): |dL/ds| =", tail["weight"].get<double>());
        for (std::size_t k = 0; k < tail["s"].size(); ++k) {
            const nlohmann::json& g = tail["abs_grad"][k];
            std::printf(" %g at s=%g%s",
                        g.is_null() ? NAN : g.get<double>(),
                        tail["s"][k].get<double>(),
                        k + 1 < tail["s"].size() ? "," : "\n");
        }
    }
    if (equivalence.passed()) {
        std::printf("fingerprint:  %s\n", check::FingerprintHex(fingerprint).c_str());
    }
    std::printf("result:       %s\n",
                first == nullptr ? "passed every cheap stage"
                                 : ("rejected at " + std::string(first_stage) + " (" +
                                    out["reason"].get<std::string>() + ")")
                                       .c_str());
}

void Screen(const ScreenOptions& options) {
    const std::optional<expr::SetKind> set = ParseSetOption(options.set);
    if (options.count < 0) {
        throw InputError("--count " + std::to_string(options.count), "must not be negative");
    }
    if (options.threads < 1) {
        throw InputError("--threads " + std::to_string(options.threads), "needs at least 1");
    }
    std::fprintf(stderr,
                 "event=start command=screen set=%s count=%lld seed=%llu threads=%d "
                 "autoloss=0.1.0\n",
                 options.set.c_str(),
                 static_cast<long long>(options.count),
                 static_cast<unsigned long long>(options.seed),
                 options.threads);
    const search::ScreeningSummary summary = search::ScreenRandom(
        *set, options.count, options.seed, options.threads, search::MeanSizeEightTrees(*set));
    nlohmann::json rejected;
    for (check::Stage stage :
         {check::Stage::kValidity, check::Stage::kConvergence, check::Stage::kEquivalence}) {
        rejected[std::string(check::StageName(stage))] =
            summary.rejected_at[static_cast<int>(stage)];
    }
    nlohmann::json reasons = nlohmann::json::object();
    for (int k = 1; k < check::kReasonCount; ++k) {
        if (summary.reasons[k] > 0) {
            reasons[std::string(check::ReasonCode(static_cast<check::Reason>(k)))] =
                summary.reasons[k];
        }
    }
    const nlohmann::json out = {
        {"set", options.set},
        {"count", summary.count},
        {"seed", options.seed},
        {"threads", options.threads},
        {"seconds", summary.seconds},
        {"candidates_per_second", summary.CandidatesPerSecond()},
        {"mean_size", summary.mean_size},
        {"passed", summary.passed},
        {"distinct", summary.distinct},
        {"rejected", rejected},
        {"reasons", reasons},
    };
    if (options.json) {
        std::cout << out.dump() << "\n";
        return;
    }
    std::printf(
        "screened %lld random formulas of %s (mean size %.2f) in %.3f s: %.0f per second "
        "on %d thread(s)\n",
        static_cast<long long>(summary.count),
        options.set.c_str(),
        summary.mean_size,
        summary.seconds,
        summary.CandidatesPerSecond(),
        options.threads);
    std::printf("passed every cheap stage: %lld (%lld distinct functions)\n",
                static_cast<long long>(summary.passed),
                static_cast<long long>(summary.distinct));
    for (auto it = rejected.begin(); it != rejected.end(); ++it) {
        std::printf("rejected at %-12s %lld\n",
                    (it.key() + ":").c_str(),
                    static_cast<long long>(it.value().get<std::int64_t>()));
    }
    for (auto it = reasons.begin(); it != reasons.end(); ++it) {
        std::printf("  %-28s %lld\n",
                    it.key().c_str(),
                    static_cast<long long>(it.value().get<std::int64_t>()));
    }
}

}  // namespace

void AddScreeningCommands(CLI::App& app) {
    CLI::App* formula = app.get_subcommand("formula");
    auto check_options = std::make_shared<CheckOptions>();
    CLI::App* check = formula->add_subcommand(
        "check", "Every cheap screening stage's verdict for one formula, with the numbers");
    check
        ->add_option(
            "FORMULA", check_options->formula, "Formula (prefix or infix) or a known loss name")
        ->required();
    check->add_option("--set",
                      check_options->set,
                      "Primitive set: cls-multi, cls-binary or reg (default: inferred)");
    check->add_flag("--json",
                    check_options->json,
                    "Print one JSON object with \"passed\", \"reason\" and every stage");
    check->callback([check_options] { Check(*check_options); });

    auto screen_options = std::make_shared<ScreenOptions>();
    CLI::App* screen = app.add_subcommand(
        "screen", "Screen random formulas (mean size 8) through the cheap stages and time it");
    screen->add_option("--set", screen_options->set, "Primitive set: cls-multi, cls-binary or reg")
        ->required();
    screen->add_option("--count", screen_options->count, "Number of random formulas")
        ->default_val(100000);
    screen->add_option("--seed", screen_options->seed, "Seed of the random formulas")
        ->default_val(0);
    screen->add_option("--threads", screen_options->threads, "Screening threads")->default_val(1);
    screen->add_flag("--json",
                     screen_options->json,
                     "Print one JSON object with \"count\", \"seconds\", "
                     "\"candidates_per_second\" and \"passed\"");
    screen->callback([screen_options] { Screen(*screen_options); });
}

}  // namespace autoloss::cli
