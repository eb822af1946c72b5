// `autoloss eval-coco`: the COCO bbox metric on a ground-truth and a results file.

#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "metrics/coco_eval.h"
#include "metrics/coco_format.h"

namespace autoloss::cli {

namespace {

struct EvalCocoOptions {
    std::string gt;
    std::string dt;
    bool json = false;
    bool per_class = false;
    int threads = 0;
};

void EvalCoco(const EvalCocoOptions& options) {
    const auto start = std::chrono::steady_clock::now();
    // The two files parse at the same time: on large result files reading is most of the work.
    auto gt_future = std::async(std::launch::async, metrics::ReadCocoInstances, options.gt);
    const std::vector<metrics::CocoDetection> dt = metrics::ReadCocoResults(options.dt);
    const metrics::CocoInstances gt = gt_future.get();
    metrics::CocoEvalParams params = metrics::CocoEvalParams::Default();
    params.threads = options.threads;
    const metrics::CocoEvalResult result = metrics::EvaluateCoco(gt, dt, params);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (const std::string& note : result.notes) {
        std::fprintf(stderr, "note: %s: %s\n", options.gt.c_str(), note.c_str());
    }
    if (options.json) {
        // nlohmann prints doubles so that they read back identically (full precision).
        nlohmann::json out = {{"stats", result.stats}};
        if (options.per_class) {
            nlohmann::json classes = nlohmann::json::array();
            for (const metrics::CategoryResult& c : result.per_category) {
                classes.push_back({{"category_id", c.category_id},
                                   {"name", c.name},
                                   {"ap", c.ap},
                                   {"ap50", c.ap50},
                                   {"ap75", c.ap75},
                                   {"ar100", c.ar},
                                   {"num_gt", c.num_gt},
                                   {"num_gt_crowd", c.num_gt_crowd},
                                   {"num_dt", c.num_dt}});
            }
            out["per_category"] = classes;
        }
        std::printf("%s\n", out.dump().c_str());
        return;
    }
    std::printf("images=%zu categories=%zu annotations=%zu detections=%zu seconds=%.3f\n",
                gt.images.size(),
                gt.categories.size(),
                gt.annotations.size(),
                dt.size(),
                seconds);
    std::printf("%s", metrics::FormatStats(result).c_str());
    if (options.per_class) {
        std::printf("\n%s", metrics::FormatPerCategory(result).c_str());
    }
}

}  // namespace

void AddEvalCocoCommands(CLI::App& app) {
    auto options = std::make_shared<EvalCocoOptions>();
    CLI::App* eval = app.add_subcommand(
        "eval-coco", "COCO bbox AP/AR of a results file, identical to pycocotools' COCOeval");
    eval->add_option("--gt", options->gt, "Ground truth: COCO instances JSON")->required();
    eval->add_option("--dt", options->dt, "Detections: COCO results JSON (a list, may be empty)")
        ->required();
    eval->add_flag("--json", options->json, "Print one JSON object {\"stats\": [12 numbers]}");
    eval->add_flag("--per-class", options->per_class, "Also print AP/AR per category");
    eval->add_option("--threads", options->threads, "Worker threads (default: all cores)");
    eval->callback([options] { EvalCoco(*options); });
}

}  // namespace autoloss::cli
