#include "pipeline/search_job.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "data/source.h"
#include "expr/known_losses.h"
#include "expr/parse.h"
#include "expr/print.h"
#include "expr/simplify.h"
#include "util/error.h"

namespace autoloss::pipeline {

namespace {

namespace fs = std::filesystem;

void WriteFile(const fs::path& path, const std::string& text) {
    std::ofstream file(path);
    file << text;
    if (!file) {
        throw InputError(path.string(), "cannot write");
    }
}

std::string Fixed(double value, int digits = 4) {
    char text[64];
    std::snprintf(text, sizeof(text), "%.*f", digits, value);
    return text;
}

// The candidate rows that led to `id`, breadth-first through both parents, newest first.
nlohmann::json Lineage(const std::vector<search::CandidateRow>& rows, std::int64_t id) {
    std::map<std::int64_t, const search::CandidateRow*> by_id;
    for (const auto& row : rows) {
        by_id[row.id] = &row;
    }
    nlohmann::json lineage = nlohmann::json::array();
    std::vector<std::int64_t> queue = {id};
    std::set<std::int64_t> seen;
    for (std::size_t k = 0; k < queue.size() && lineage.size() < 64; ++k) {
        const auto it = by_id.find(queue[k]);
        if (it == by_id.end() || !seen.insert(queue[k]).second) {
            continue;
        }
        const search::CandidateRow& row = *it->second;
        nlohmann::json entry = {{"id", row.id},
                                {"generation", row.generation},
                                {"origin", row.origin},
                                {"prefix", row.prefix},
                                {"parents", {row.parent_a, row.parent_b}}};
        if (row.simulation_score) {
            entry["simulation_ap"] = *row.simulation_score;
        }
        if (row.proxy_score) {
            entry["proxy_ap"] = *row.proxy_score;
        }
        lineage.push_back(entry);
        for (std::int64_t parent : {row.parent_a, row.parent_b}) {
            if (parent >= 0) {
                queue.push_back(parent);
            }
        }
    }
    return lineage;
}

nlohmann::json FormulaForms(const expr::Formula& formula) {
    return {{"prefix", expr::PrintPrefix(formula)},
            {"infix", expr::PrintInfix(formula)},
            {"simplified", expr::PrintInfix(expr::Simplify(formula))},
            {"latex", expr::PrintLatex(formula)},
            {"pytorch", expr::PrintPytorch(formula, "discovered_loss")},
            {"set", std::string(formula.primitive_set().name())},
            {"hash", expr::HashHex(formula.Hash())}};
}

std::string Summary(const search::SearchResult& result,
                    const std::vector<search::CandidateRow>& rows,
                    const std::vector<search::GenerationRow>& generations,
                    const std::vector<FinalRow>& final_rows,
                    const expr::Formula& best) {
    std::string out = "\n== search summary ==\n";
    const auto add = [&out](const std::string& name, const std::string& value) {
        char line[512];
        std::snprintf(line, sizeof(line), "%-34s %s\n", name.c_str(), value.c_str());
        out += line;
    };
    const search::SearchStats& stats = result.stats;
    if (result.initial_simulation) {
        add("initial loss on D_verify",
            result.initial_simulation->ok ? "AP " + Fixed(result.initial_simulation->score)
                                          : result.initial_simulation->failure);
    }
    add("generations completed",
        std::to_string(result.generations_completed) + " (stopped by " + result.stop_reason + ")");
    add("candidates generated", std::to_string(stats.candidates));
    std::int64_t rejected = 0;
    for (const auto& [reason, count] : stats.rejected) {
        add("  rejected at " + reason, std::to_string(count));
        rejected += count;
    }
    add("passed the cheap stages", std::to_string(stats.passed_cheap));
    add("  of which equivalent to an earlier one", std::to_string(stats.duplicates));
    add("trained: simulation on D_verify", std::to_string(stats.simulations));
    add("trained: proxy task", std::to_string(stats.proxies));
    double screen_seconds = 0;
    double simulate_seconds = 0;
    double proxy_seconds = 0;
    for (const auto& row : rows) {
        screen_seconds += row.screen_us * 1e-6;
        simulate_seconds += row.simulation_seconds.value_or(0.0);
        proxy_seconds += row.proxy_seconds.value_or(0.0);
    }
    double final_seconds = 0;
    for (const FinalRow& row : final_rows) {
        final_seconds += row.seconds;
    }
    add("time: cheap stages", Fixed(screen_seconds, 2) + " s");
    add("time: simulation", Fixed(simulate_seconds, 1) + " s");
    add("time: proxy task", Fixed(proxy_seconds, 1) + " s");
    add("time: final check", Fixed(final_seconds, 1) + " s");
    out += "\nbest proxy AP per generation:\n";
    std::map<std::int64_t, std::string> prefix_of;
    for (const auto& row : rows) {
        prefix_of[row.id] = row.infix;
    }
    for (const auto& generation : generations) {
        add("  generation " + std::to_string(generation.generation),
            generation.best_score
                ? Fixed(*generation.best_score) + "  " + prefix_of[generation.best_id]
                : "no proxy result");
    }
    out += "\ndiscovered: " + expr::PrintInfix(best) + "\n";
    out += "\nfinal check (retrained on the train split, scored on the held-out test split):\n";
    out += FormatFinalTable(final_rows);
    return out;
}

}  // namespace

JobOutcome RunSearchJob(const JobConfig& config, const JobOptions& options) {
    const fs::path out = options.out_dir;
    const fs::path record_path = out / "record.sqlite";
    if (fs::exists(record_path) && !options.resume) {
        throw InputError(out.string(),
                         "already holds a search; pass --resume to continue it or "
                         "choose another --out");
    }
    if (options.resume && !fs::exists(record_path)) {
        throw InputError(out.string(), "holds no search to resume (no record.sqlite)");
    }
    fs::create_directories(out);
    WriteFile(out / "config.yaml", ToYaml(config));
    std::ofstream log_file(out / "log.txt", std::ios::app);
    const auto log = [&](const std::string& line) {
        log_file << line << "\n";
        log_file.flush();
        if (options.log) {
            options.log(line);
        }
    };
    const auto start = std::chrono::steady_clock::now();
    const auto elapsed = [&start] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    log("event=start config=" + config.source + " seed=" + std::to_string(config.search.seed) +
        " set=" + std::string(expr::PrimitiveSet::Get(config.search.set).name()) +
        " resume=" + (options.resume ? "true" : "false"));

    SearchData data = LoadSearchData(config);
    log("event=data train=" + std::to_string(data.train.images.size()) +
        " proxy_train=" + std::to_string(data.proxy_train.images.size()) +
        " val=" + std::to_string(data.val.images.size()) +
        " test=" + std::to_string(data.test.images.size()) +
        " verify=" + std::to_string(data.verify.images.size()) +
        " classes=" + std::to_string(data.train.NumClasses()));
    // Drawn val images (val_fraction) share the training split's report.
    std::vector<std::pair<std::string, const data::Dataset*>> read = {
        {config.train_split, &data.train}, {config.test_split, &data.test}};
    if (config.val_fraction == 0.0) {
        read.emplace_back(config.val_split, &data.val);
    }
    for (const auto& [split, set] : read) {
        if (const std::string repairs = data::RepairLine(*set, split); !repairs.empty()) {
            log("event=data_repairs " + repairs);
        }
    }

    DetectorStages stages(config, data, log);
    const auto record = search::OpenRecord(record_path.string(), config.search, options.resume);
    search::Search search(config.search, stages, record.get());
    search.OnGeneration([&](const search::GenerationSummary& summary) {
        const int done = summary.generation + 1;
        const double eta = elapsed() / done * (config.search.generations - done);
        std::string line = "event=generation generation=" + std::to_string(done) + "/" +
                           std::to_string(config.search.generations) +
                           " passed_cheap=" + std::to_string(summary.passed_cheap) +
                           " simulated=" + std::to_string(summary.simulated) +
                           " proxied=" + std::to_string(summary.proxied);
        if (summary.threshold) {
            line += " threshold=" + Fixed(*summary.threshold);
        }
        if (summary.best) {
            line += " best_ap=" + Fixed(summary.best->proxy_score.value_or(0.0)) + " best=\"" +
                    expr::PrintInfix(summary.best->formula) + "\"";
        }
        line += " elapsed_s=" + Fixed(elapsed(), 0) + " search_left_s=" + Fixed(eta, 0);
        log(line);
    });

    JobOutcome outcome;
    outcome.search = search.Run();
    if (outcome.search.parents.empty()) {
        throw InputError(out.string(),
                         "the search ended without any loss scored on the proxy "
                         "task; see log.txt for why each candidate failed");
    }
    const search::Individual& best = outcome.search.parents.front();
    const expr::Formula fallback = expr::DefaultLoss(config.search.set).Parsed();
    log("event=search_done generations=" + std::to_string(outcome.search.generations_completed) +
        " best=\"" + expr::PrintInfix(best.formula) + "\" elapsed_s=" + Fixed(elapsed(), 0));

    FinalRunStore store{
        [&record](const std::string& key) { return record->Meta(key).value_or(""); },
        [&record](const std::string& key, const std::string& json) { record->SetMeta(key, json); }};
    outcome.final_rows = RunFinalCheck(
        config,
        data,
        {{"discovered", expr::PrintPrefix(best.formula)}, {"default", expr::PrintPrefix(fallback)}},
        store,
        log);

    const auto rows = record->LoadAllCandidates();
    const auto generations = record->LoadAllGenerations();
    outcome.best = {{"branch", config.branch == Branch::kCls ? "cls" : "reg"},
                    {"detector", config.proxy.detector},
                    {"formula", FormulaForms(best.formula)},
                    {"candidate_id", best.id},
                    {"is_initial_loss", best.id < 0},
                    {"final_check", FinalJson(outcome.final_rows)},
                    {"lineage", Lineage(rows, best.id)}};
    if (best.simulation_score) {
        outcome.best["simulation_ap"] = *best.simulation_score;
    }
    if (best.proxy_score) {
        outcome.best["proxy_ap"] = *best.proxy_score;
    }
    WriteFile(out / "best.json", outcome.best.dump(2) + "\n");
    WriteFile(out / "final_check.json", FinalJson(outcome.final_rows).dump(2) + "\n");
    outcome.summary = Summary(outcome.search, rows, generations, outcome.final_rows, best.formula);
    WriteFile(out / "summary.txt", outcome.summary);
    log("event=done elapsed_s=" + Fixed(elapsed(), 0));
    return outcome;
}

}  // namespace autoloss::pipeline
