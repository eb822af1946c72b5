#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "train/config.h"
#include "data/dataset.h"
#include "train/batch.h"

namespace autoloss::train {

// COCO bbox metric of one evaluation.
struct EvalPoint {
    int iteration = 0;
    double ap = 0.0;    // AP@[.5:.95], area all, 100 detections
    double ap50 = 0.0;
    double ap75 = 0.0;
    double seconds = 0.0;  // time the evaluation took
    double images_per_second = 0.0;
    // AP@[.5:.95] of each category with ground truth, by name: where a detector falls short.
    std::map<std::string, double> ap_per_class;
};

// Loss terms logged at one iteration (1-based: the iteration just finished).
struct LossRecord {
    int iteration = 0;
    double lr = 0.0;
    std::map<std::string, double> values;  // "total", "cls", "reg", "quality"
};

// The outcome of a run. A diverging formula is a result, never an exception.
struct TrainResult {
    std::string status;           // "finished" or "diverged"
    int iterations_done = 0;      // iterations completed (before divergence, if any)
    int diverged_at = 0;          // the 1-based iteration that diverged, 0 when none did
    std::string divergence_reason;
    int resumed_from = 0;         // iteration restored from a checkpoint, 0 for a fresh run
    std::string cls_loss;         // the formulas trained, prefix form
    std::string reg_loss;
    std::vector<EvalPoint> evals;
    std::vector<LossRecord> losses;
    double final_ap = 0.0;        // of the last evaluation, 0 when diverged before any
    double final_ap50 = 0.0;
    double train_seconds = 0.0;   // optimisation steps only, this process
    double eval_seconds = 0.0;
    double train_images_per_second = 0.0;
    double peak_memory_gib = 0.0;  // peak resident set size of the process
};

// Observers of a run; all optional. The library prints nothing by itself.
struct TrainHooks {
    std::function<void(const std::string&)> log;  // one key=value line per call
    bool progress = false;                        // draw a progress bar on stderr
};

// Trains the detector of `config` on `train_set` and evaluates on `eval_set` at config.eval_at
// and at the end. Writes checkpoints, config.yaml, result.json, model.pt and the final
// detections (COCO results) to config.out_dir when it is set, and resumes from a checkpoint
// found there. Throws InputError for a bad config or formula, or when the two sets differ in
// their categories; divergence is a status.
TrainResult Train(const TrainConfig& config,
                  const data::Dataset& train_set,
                  const data::Dataset& eval_set,
                  ImageCache& cache,
                  const TrainHooks& hooks = {});

// As above, reading the train and val splits named by the config.
TrainResult Train(const TrainConfig& config, const TrainHooks& hooks = {});

// The result as JSON text (metrics, losses, timings, divergence).
std::string ResultJson(const TrainResult& result, const TrainConfig& config);

// Peak resident memory of this process in GiB (VmHWM).
double PeakMemoryGib();

// Sets libtorch's intra-op threads: `threads`, or every core when 0. Returns the count used.
int ConfigureThreads(int threads);

// key=value text naming the libtorch version, the BLAS library loaded and the CPU features.
std::string RuntimeVersions();

// Throws InputError when this process resolved BLAS to Debian's reference implementation,
// which trains detectors tens of times slower (install libopenblas0-pthread).
void RequireFastBlas();

}  // namespace autoloss::train
