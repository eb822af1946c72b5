#include "train/config.h"

#include <fstream>
#include <functional>
#include <map>

#include <yaml-cpp/yaml.h>

#include "util/error.h"

namespace autoloss::train {

namespace {

// One binding per key: reads a YAML node into the field and writes the field back out.
struct Field {
    std::function<void(TrainConfig&, const YAML::Node&)> read;
    std::function<void(const TrainConfig&, YAML::Emitter&)> write;
};

template <typename T>
Field Bind(T TrainConfig::*member) {
    return {
        [member](TrainConfig& config, const YAML::Node& node) { config.*member = node.as<T>(); },
        [member](const TrainConfig& config, YAML::Emitter& out) {
            if constexpr (std::is_same_v<T, std::vector<int>> ||
                          std::is_same_v<T, std::vector<std::string>>) {
                out << YAML::Flow;
            }
            out << config.*member;
        }};
}

const std::map<std::string, Field>& Fields() {
    static const std::map<std::string, Field> fields = {
        {"detector", Bind(&TrainConfig::detector)},
        {"backbone_depth", Bind(&TrainConfig::backbone_depth)},
        {"backbone_width", Bind(&TrainConfig::backbone_width)},
        {"fpn_channels", Bind(&TrainConfig::fpn_channels)},
        {"tower_convs", Bind(&TrainConfig::tower_convs)},
        {"fcos_initial_scale", Bind(&TrainConfig::fcos_initial_scale)},
        {"fcos_learn_scales", Bind(&TrainConfig::fcos_learn_scales)},
        {"roi_batch_per_image", Bind(&TrainConfig::roi_batch_per_image)},
        {"roi_head_width", Bind(&TrainConfig::roi_head_width)},
        {"anchor_size", Bind(&TrainConfig::anchor_size)},
        {"cls_loss", Bind(&TrainConfig::cls_loss)},
        {"reg_loss", Bind(&TrainConfig::reg_loss)},
        {"data_format", Bind(&TrainConfig::data_format)},
        {"data_root", Bind(&TrainConfig::data_root)},
        {"train_split", Bind(&TrainConfig::train_split)},
        {"val_split", Bind(&TrainConfig::val_split)},
        {"classes", Bind(&TrainConfig::classes)},
        {"min_size", Bind(&TrainConfig::min_size)},
        {"max_size", Bind(&TrainConfig::max_size)},
        {"hflip", Bind(&TrainConfig::hflip)},
        {"iterations", Bind(&TrainConfig::iterations)},
        {"batch_size", Bind(&TrainConfig::batch_size)},
        {"lr", Bind(&TrainConfig::lr)},
        {"momentum", Bind(&TrainConfig::momentum)},
        {"weight_decay", Bind(&TrainConfig::weight_decay)},
        {"warmup_iterations", Bind(&TrainConfig::warmup_iterations)},
        {"warmup_factor", Bind(&TrainConfig::warmup_factor)},
        {"schedule", Bind(&TrainConfig::schedule)},
        {"milestones", Bind(&TrainConfig::milestones)},
        {"gamma", Bind(&TrainConfig::gamma)},
        {"clip_grad_norm", Bind(&TrainConfig::clip_grad_norm)},
        {"divergence_factor", Bind(&TrainConfig::divergence_factor)},
        {"seed", Bind(&TrainConfig::seed)},
        {"threads", Bind(&TrainConfig::threads)},
        {"precision", Bind(&TrainConfig::precision)},
        {"device", Bind(&TrainConfig::device)},
        {"channels_last", Bind(&TrainConfig::channels_last)},
        {"eval_at", Bind(&TrainConfig::eval_at)},
        {"eval_batch_size", Bind(&TrainConfig::eval_batch_size)},
        {"checkpoint_every", Bind(&TrainConfig::checkpoint_every)},
        {"log_every", Bind(&TrainConfig::log_every)},
        {"out_dir", Bind(&TrainConfig::out_dir)},
    };
    return fields;
}

void Set(TrainConfig& config,
         const std::string& key,
         const YAML::Node& value,
         const std::string& where) {
    const auto it = Fields().find(key);
    if (it == Fields().end()) {
        throw InputError(where, "unknown key '" + key + "'");
    }
    try {
        it->second.read(config, value);
    } catch (const YAML::Exception& error) {
        throw InputError(where, "key '" + key + "': " + error.msg);
    }
}

}  // namespace

TrainConfig LoadTrainConfig(const std::string& path) {
    YAML::Node root;
    try {
        root = YAML::LoadFile(path);
    } catch (const YAML::Exception& error) {
        throw InputError(path, error.what());
    }
    TrainConfig config;
    if (root.IsNull()) {
        return config;
    }
    if (!root.IsMap()) {
        throw InputError(path, "a config is a YAML mapping of key: value");
    }
    for (const auto& entry : root) {
        Set(config, entry.first.as<std::string>(), entry.second, path);
    }
    return config;
}

void ApplyOverride(TrainConfig& config, const std::string& assignment) {
    const std::size_t eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0) {
        throw InputError("override '" + assignment + "'", "expected key=value");
    }
    YAML::Node value;
    try {
        value = YAML::Load(assignment.substr(eq + 1));
    } catch (const YAML::Exception& error) {
        throw InputError("override '" + assignment + "'", error.what());
    }
    Set(config, assignment.substr(0, eq), value, "override '" + assignment + "'");
}

void ValidateTrainConfig(const TrainConfig& config) {
    const auto fail = [](const std::string& key, const std::string& message) {
        throw InputError("config key '" + key + "'", message);
    };
    if (config.detector != "fcos" && config.detector != "faster_rcnn") {
        fail("detector", "'" + config.detector + "' is not a known detector (fcos, faster_rcnn)");
    }
    if (config.iterations < 1)
        fail("iterations", "must be at least 1");
    if (config.batch_size < 1)
        fail("batch_size", "must be at least 1");
    if (config.eval_batch_size < 1)
        fail("eval_batch_size", "must be at least 1");
    if (!(config.lr > 0))
        fail("lr", "must be positive");
    if (config.min_size < 32 || config.max_size < config.min_size) {
        fail("min_size", "needs 32 <= min_size <= max_size");
    }
    if (config.schedule != "constant" && config.schedule != "step" && config.schedule != "cosine") {
        fail("schedule", "'" + config.schedule + "' is not constant, step or cosine");
    }
    if (config.precision != "bf16" && config.precision != "fp32" && config.precision != "auto") {
        fail("precision", "'" + config.precision + "' is not bf16, fp32 or auto");
    }
    if (config.device != "cpu" && config.device != "cuda") {
        fail("device", "'" + config.device + "' is not cpu or cuda");
    }
    if (config.warmup_iterations < 0)
        fail("warmup_iterations", "must be >= 0");
    if (config.threads < 0)
        fail("threads", "must be >= 0");
    if (config.tower_convs < 0)
        fail("tower_convs", "must be >= 0");
    if (!(config.fcos_initial_scale > 0))
        fail("fcos_initial_scale", "must be positive");
    if (config.roi_batch_per_image < 1)
        fail("roi_batch_per_image", "must be at least 1");
    if (config.roi_head_width < 1)
        fail("roi_head_width", "must be at least 1");
    if (!(config.anchor_size > 0))
        fail("anchor_size", "must be positive");
    if (!(config.divergence_factor > 1))
        fail("divergence_factor", "must be > 1");
    data::ParseFormat(config.data_format, "config key 'data_format'");
}

data::DataSource DataSourceOf(const TrainConfig& config) {
    data::DataSource source;
    source.format = data::ParseFormat(config.data_format, "config key 'data_format'");
    source.root = config.data_root;
    source.class_names = config.classes;
    return source;
}

std::string ResolvedPrecision(const TrainConfig& config) {
    if (config.precision != "auto") {
        return config.precision;
    }
    static const bool native_bf16 = [] {
        std::ifstream cpuinfo("/proc/cpuinfo");
        for (std::string line; std::getline(cpuinfo, line);) {
            if (line.rfind("flags", 0) == 0) {
                return line.find(" amx_bf16") != std::string::npos ||
                       line.find(" avx512_bf16") != std::string::npos;
            }
        }
        return false;
    }();
    return native_bf16 ? "bf16" : "fp32";
}

std::string ToYaml(const TrainConfig& config) {
    YAML::Emitter out;
    out << YAML::BeginMap;
    for (const auto& [key, field] : Fields()) {
        out << YAML::Key << key << YAML::Value;
        field.write(config, out);
    }
    out << YAML::EndMap;
    return std::string(out.c_str()) + "\n";
}

}  // namespace autoloss::train
