#include "pipeline/job_config.h"

#include <filesystem>
#include <functional>
#include <map>

#include <yaml-cpp/yaml.h>

#include "data/source.h"
#include "util/error.h"

namespace autoloss::pipeline {

namespace {

namespace fs = std::filesystem;

using SearchSetter = std::function<void(JobConfig&, const YAML::Node&)>;

template <typename T>
SearchSetter Into(T search::SearchConfig::*member) {
    return [member](JobConfig& job, const YAML::Node& node) { job.search.*member = node.as<T>(); };
}

const std::map<std::string, SearchSetter>& SearchKeys() {
    static const std::map<std::string, SearchSetter> keys = {
        {"population", Into(&search::SearchConfig::population)},
        {"generations", Into(&search::SearchConfig::generations)},
        {"parents", Into(&search::SearchConfig::parents)},
        {"proxy_candidates", Into(&search::SearchConfig::proxy_candidates)},
        {"crossover_probability", Into(&search::SearchConfig::crossover_probability)},
        {"mutation_probability", Into(&search::SearchConfig::mutation_probability)},
        {"initial_loss", Into(&search::SearchConfig::initial_loss)},
        {"initial_mutations", Into(&search::SearchConfig::initial_mutations)},
        {"max_simulations_per_generation",
         Into(&search::SearchConfig::max_simulations_per_generation)},
        {"threads", Into(&search::SearchConfig::threads)},
        {"max_evaluations", Into(&search::SearchConfig::max_evaluations)},
        {"max_seconds", Into(&search::SearchConfig::max_seconds)},
        {"max_depth",
         [](JobConfig& job, const YAML::Node& node) {
             job.search.limits.max_depth = node.as<int>();
         }},
        {"max_size",
         [](JobConfig& job, const YAML::Node& node) {
             job.search.limits.max_size = node.as<int>();
         }},
        {"threshold_fraction", Into(&search::SearchConfig::threshold_fraction)},
        {"threshold_from_initial_loss", Into(&search::SearchConfig::threshold_from_initial_loss)},
    };
    return keys;
}

// Applies a mapping of training keys over `config`, through the training config's own parser.
void ApplyTrainSection(train::TrainConfig& config,
                       const YAML::Node& section,
                       const std::string& where,
                       const std::vector<std::string>& skip = {}) {
    if (!section.IsMap()) {
        throw InputError(where, "expected a mapping of training keys");
    }
    for (const auto& entry : section) {
        const std::string key = entry.first.as<std::string>();
        if (std::find(skip.begin(), skip.end(), key) != skip.end()) {
            continue;
        }
        YAML::Emitter value;
        value << YAML::Flow << entry.second;
        try {
            train::ApplyOverride(config, key + "=" + value.c_str());
        } catch (const InputError& error) {
            throw InputError(where, error.message());
        }
    }
}

Branch ParseBranch(const std::string& text, const std::string& where) {
    if (text == "cls") {
        return Branch::kCls;
    }
    if (text == "reg") {
        return Branch::kReg;
    }
    throw InputError(where, "branch '" + text + "' is not cls or reg");
}

}  // namespace

expr::SetKind SearchedSet(Branch branch, const std::string& detector) {
    if (branch == Branch::kReg) {
        return expr::SetKind::kReg;
    }
    return detector == "faster_rcnn" ? expr::SetKind::kClsMulti : expr::SetKind::kClsBinary;
}

JobConfig LoadJobConfig(const std::string& path) {
    YAML::Node root;
    try {
        root = YAML::LoadFile(path);
    } catch (const YAML::Exception& error) {
        throw InputError(path, error.what());
    }
    if (!root.IsMap()) {
        throw InputError(path, "a search config is a YAML mapping (see configs/search/demo.yaml)");
    }
    const fs::path folder = fs::absolute(path).parent_path();
    JobConfig job;
    job.source = path;
    train::TrainConfig shared;
    std::map<std::string, YAML::Node> runs;
    const auto where = [&](const std::string& key) { return path + ": key '" + key + "'"; };
    try {
        for (const auto& entry : root) {
            const std::string key = entry.first.as<std::string>();
            const YAML::Node& value = entry.second;
            if (key == "branch") {
                job.branch = ParseBranch(value.as<std::string>(), where(key));
            } else if (key == "seed") {
                job.search.seed = value.as<std::uint64_t>();
            } else if (key == "search") {
                for (const auto& item : value) {
                    const std::string name = item.first.as<std::string>();
                    const auto setter = SearchKeys().find(name);
                    if (setter == SearchKeys().end()) {
                        throw InputError(where("search." + name), "unknown key");
                    }
                    setter->second(job, item.second);
                }
            } else if (key == "data") {
                for (const auto& item : value) {
                    const std::string name = item.first.as<std::string>();
                    const std::string text = item.second.as<std::string>();
                    if (name == "root") {
                        job.data_root = (folder / text).lexically_normal().string();
                    } else if (name == "format") {
                        data::ParseFormat(text, where("data.format"));
                        job.data_format = text;
                    } else if (name == "train_split") {
                        job.train_split = text;
                    } else if (name == "val_split") {
                        job.val_split = text;
                    } else if (name == "test_split") {
                        job.test_split = text;
                    } else if (name == "val_fraction") {
                        job.val_fraction = item.second.as<double>();
                        if (!(job.val_fraction >= 0.0 && job.val_fraction < 0.5)) {
                            throw InputError(where("data.val_fraction"), "must be in [0, 0.5)");
                        }
                    } else {
                        throw InputError(where("data." + name), "unknown key");
                    }
                }
            } else if (key == "train") {
                ApplyTrainSection(shared, value, where(key));
            } else if (key == "simulate" || key == "proxy" || key == "final") {
                runs[key] = value;
            } else {
                throw InputError(where(key), "unknown key");
            }
        }
    } catch (const YAML::Exception& error) {
        throw InputError(path, error.what());
    }
    if (job.data_root.empty()) {
        throw InputError(where("data.root"), "missing: the data set folder to search on");
    }
    shared.data_format = job.data_format;
    shared.data_root = job.data_root;
    shared.train_split = job.train_split;
    shared.val_split = job.val_split;
    shared.seed = static_cast<int>(job.search.seed);
    job.simulate = job.proxy = job.final_run = shared;
    // D_verify is tiny: its images are evaluated as a whole, and the first simulation score
    // arrives after the run (no intermediate evaluations, no checkpoints).
    for (train::TrainConfig* run : {&job.simulate, &job.proxy}) {
        run->checkpoint_every = 0;
        run->eval_at.clear();
    }
    if (runs.count("simulate")) {
        ApplyTrainSection(job.simulate, runs["simulate"], where("simulate"));
    }
    if (runs.count("proxy")) {
        ApplyTrainSection(job.proxy, runs["proxy"], where("proxy"));
    }
    if (runs.count("final")) {
        const YAML::Node& final_section = runs["final"];
        if (final_section.IsMap() && final_section["seeds"]) {
            try {
                job.final_seeds = final_section["seeds"].as<std::vector<int>>();
            } catch (const YAML::Exception& error) {
                throw InputError(where("final.seeds"), "expected a list of integers");
            }
        }
        ApplyTrainSection(job.final_run, final_section, where("final"), {"seeds"});
    }
    job.search.set = SearchedSet(job.branch, shared.detector);
    if (job.final_seeds.empty()) {
        throw InputError(where("final.seeds"), "needs at least one seed");
    }
    search::ValidateConfig(job.search);
    for (const auto& [name, run] :
         {std::pair{"simulate", &job.simulate}, {"proxy", &job.proxy}, {"final", &job.final_run}}) {
        try {
            train::ValidateTrainConfig(*run);
        } catch (const InputError& error) {
            throw InputError(path + ": " + name, error.what());
        }
    }
    return job;
}

std::string PresetPath(const std::string& name) {
    const fs::path folder = fs::path(AUTOLOSS_SOURCE_DIR) / "configs" / "search";
    const fs::path file = folder / (name + ".yaml");
    if (fs::is_regular_file(file)) {
        return file.string();
    }
    std::string known;
    if (fs::is_directory(folder)) {
        for (const auto& entry : fs::directory_iterator(folder)) {
            if (entry.path().extension() == ".yaml") {
                known += (known.empty() ? "" : ", ") + entry.path().stem().string();
            }
        }
    }
    throw InputError("--preset " + name,
                     "no such preset in " + folder.string() + " (presets: " + known + ")");
}

std::string ToYaml(const JobConfig& config) {
    YAML::Emitter out;
    out << YAML::BeginMap;
    out << YAML::Key << "branch" << YAML::Value << (config.branch == Branch::kCls ? "cls" : "reg");
    out << YAML::Key << "seed" << YAML::Value << config.search.seed;
    out << YAML::Key << "search" << YAML::Value << YAML::BeginMap;
    const search::SearchConfig& s = config.search;
    out << YAML::Key << "population" << YAML::Value << s.population;
    out << YAML::Key << "generations" << YAML::Value << s.generations;
    out << YAML::Key << "parents" << YAML::Value << s.parents;
    out << YAML::Key << "proxy_candidates" << YAML::Value << s.proxy_candidates;
    out << YAML::Key << "crossover_probability" << YAML::Value << s.crossover_probability;
    out << YAML::Key << "mutation_probability" << YAML::Value << s.mutation_probability;
    out << YAML::Key << "initial_loss" << YAML::Value << s.initial_loss;
    out << YAML::Key << "initial_mutations" << YAML::Value << s.initial_mutations;
    out << YAML::Key << "max_depth" << YAML::Value << s.limits.max_depth;
    out << YAML::Key << "max_size" << YAML::Value << s.limits.max_size;
    out << YAML::Key << "max_simulations_per_generation" << YAML::Value
        << s.max_simulations_per_generation;
    out << YAML::Key << "threshold_fraction" << YAML::Value << s.threshold_fraction;
    out << YAML::Key << "threshold_from_initial_loss" << YAML::Value
        << s.threshold_from_initial_loss;
    out << YAML::Key << "threads" << YAML::Value << s.threads;
    out << YAML::Key << "max_evaluations" << YAML::Value << s.max_evaluations;
    out << YAML::Key << "max_seconds" << YAML::Value << s.max_seconds;
    out << YAML::EndMap;
    out << YAML::Key << "data" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "format" << YAML::Value << config.data_format;
    out << YAML::Key << "root" << YAML::Value << config.data_root;
    out << YAML::Key << "train_split" << YAML::Value << config.train_split;
    out << YAML::Key << "val_split" << YAML::Value << config.val_split;
    out << YAML::Key << "test_split" << YAML::Value << config.test_split;
    out << YAML::Key << "val_fraction" << YAML::Value << config.val_fraction;
    out << YAML::EndMap;
    for (const auto& [name, run] : {std::pair{"simulate", &config.simulate},
                                    {"proxy", &config.proxy},
                                    {"final", &config.final_run}}) {
        YAML::Node section = YAML::Load(train::ToYaml(*run));
        if (run == &config.final_run) {
            section["seeds"] = config.final_seeds;
            section["seeds"].SetStyle(YAML::EmitterStyle::Flow);
        }
        out << YAML::Key << name << YAML::Value << section;
    }
    out << YAML::EndMap;
    return std::string(out.c_str()) + "\n";
}

}  // namespace autoloss::pipeline
