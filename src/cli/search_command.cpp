// `autoloss search`: the main job, a loss search on real data from a config or a preset.

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "pipeline/job_config.h"
#include "pipeline/search_job.h"
#include "train/trainer.h"
#include "util/error.h"

namespace autoloss::cli {

namespace {

struct SearchOptions {
    std::string config;
    std::string preset;
    std::string out;
    bool resume = false;
    int threads = 0;
};

void Log(const std::string& line) {
    std::fprintf(stderr, "%s\n", line.c_str());
    std::fflush(stderr);
}

void RunSearch(const SearchOptions& options) {
    if (options.config.empty() == options.preset.empty()) {
        throw InputError("autoloss search", "give exactly one of --config FILE or --preset NAME");
    }
    const std::string path =
        options.preset.empty() ? options.config : pipeline::PresetPath(options.preset);
    pipeline::JobConfig config = pipeline::LoadJobConfig(path);
    if (options.threads > 0) {
        for (train::TrainConfig* run : {&config.simulate, &config.proxy, &config.final_run}) {
            run->threads = options.threads;
        }
    }
    const std::string name = std::filesystem::path(path).stem().string();
    const std::string out = options.out.empty() ? "runs/" + name : options.out;
    const int threads = train::ConfigureThreads(config.proxy.threads);
    train::RequireFastBlas();
    Log("event=start command=search config=" + path + " out=" + out +
        " seed=" + std::to_string(config.search.seed) + " threads=" + std::to_string(threads) +
        " autoloss=0.1.0 " + train::RuntimeVersions());
    pipeline::JobOptions job{out, options.resume, Log};
    const pipeline::JobOutcome outcome = pipeline::RunSearchJob(config, job);
    std::cout << outcome.summary << "\nwritten: " << out << "/best.json, " << out
              << "/summary.txt, " << out << "/record.sqlite\n";
}

}  // namespace

void AddSearchCommands(CLI::App& app) {
    auto options = std::make_shared<SearchOptions>();
    CLI::App* search = app.add_subcommand(
        "search",
        "Discover a loss: evolutionary search with convergence-simulation screening, proxy "
        "training, and a final check against the default loss on a held-out split");
    search->add_option("--config", options->config, "Search config (YAML; see configs/search/)");
    search->add_option("--preset", options->preset, "A shipped config: smoke, demo or paper");
    search->add_option("--out", options->out, "Output folder (default: runs/<config name>)");
    search->add_flag("--resume", options->resume, "Continue the search recorded in --out");
    search->add_option("--threads", options->threads, "libtorch threads (default: all cores)");
    search->callback([options] { RunSearch(*options); });
}

}  // namespace autoloss::cli
