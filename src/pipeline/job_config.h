#pragma once

#include <string>
#include <vector>

#include "expr/primitive_set.h"
#include "search/config.h"
#include "train/config.h"

namespace autoloss::pipeline {

// Which loss the search looks for; the other branch keeps its default (SPEC.md §3 step 3).
enum class Branch { kCls, kReg };

// Everything one `autoloss search` run needs. The YAML file has the sections `search` (Algorithm
// 1's parameters), `data`, `train` (the settings every training run shares, keys as in
// `autoloss train` configs) and `simulate`, `proxy`, `final` (what differs per kind of run).
struct JobConfig {
    std::string source;  // the file it was read from
    Branch branch = Branch::kReg;
    search::SearchConfig search;  // search.set follows from branch and detector
    // Data: a folder in a data::Format layout (voc, coco or yolo). The proxy task trains on
    // train_split and is scored on val_split; D_verify (one image per category) is drawn from
    // train_split; the final check retrains on train_split and is scored on test_split, which
    // the search never sees.
    std::string data_format = "voc";
    std::string data_root;
    std::string train_split = "train";
    std::string val_split = "val";
    std::string test_split = "test";
    // When > 0, the proxy task's val images are this fraction of train_split (a seeded draw)
    // instead of val_split, and the proxy task trains on the rest: for data sets whose only
    // other split must stay held out (COCO: train2017 for the search, val2017 for the final
    // check). The final check still trains on all of train_split.
    double val_fraction = 0.0;
    // Complete training configs of the three kinds of run (the shared `train` section with each
    // run's section applied over it); losses are filled in per run.
    train::TrainConfig simulate;
    train::TrainConfig proxy;
    train::TrainConfig final_run;
    std::vector<int> final_seeds = {0, 1};
};

// The primitive set searched for `branch` with `detector` (fcos: cls-binary; faster_rcnn:
// cls-multi; either: reg for the regression branch).
expr::SetKind SearchedSet(Branch branch, const std::string& detector);

// Reads a job config. Relative paths in it are relative to the file's folder. Unknown keys,
// mistyped values and impossible settings are InputErrors naming the file and the key.
JobConfig LoadJobConfig(const std::string& path);

// The file of the preset called `name` (smoke, demo, paper) in the project's configs/search/;
// throws InputError listing the presets when there is none by that name.
std::string PresetPath(const std::string& name);

// The config as YAML, with every default spelled out: what the run used. LoadJobConfig reads it
// back to the same values.
std::string ToYaml(const JobConfig& config);

}  // namespace autoloss::pipeline
