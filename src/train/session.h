#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "detect/detector.h"
#include "expr/formula.h"
#include "metrics/coco_format.h"
#include "train/config.h"
#include "data/dataset.h"
#include "train/batch.h"
#include "train/trainer.h"

namespace autoloss::train {

// The device config.device names. Throws InputError for cuda without a CUDA device, or with
// bf16 (autocast is wired for the CPU only).
at::Device DeviceOf(const TrainConfig& config);

// The detector `config` describes for `num_classes` classes, with its losses resolved from
// config.cls_loss / reg_loss, its precision and layout set, on DeviceOf(config). Throws
// InputError.
std::shared_ptr<detect::Detector> MakeDetector(const TrainConfig& config, int num_classes);

// The reg_loss name that selects Faster R-CNN's smooth L1 on box deltas (the paper's
// "CE + Smooth L1" baseline), which is not a formula of the regression set.
inline constexpr std::string_view kSmoothL1 = "smooth-l1";

// The set config.cls_loss is read in: cls-multi for faster_rcnn, cls-binary for fcos.
expr::SetKind ClsLossSet(const TrainConfig& config);

// config.reg_loss as a formula, or nullopt for Faster R-CNN's smooth L1 baseline. Throws
// InputError for text that is neither.
std::optional<expr::Formula> ResolveRegLoss(const TrainConfig& config);

// Moves a host batch onto `device` as tensors.
detect::DetectionBatch ToDevice(const HostBatch& host, const at::Device& device);

// Runs `detector` over every image of `set` (eval mode, no gradients), each prepared by
// `transform`, and returns detections in COCO results form: original image pixels, category id
// as set.categories names it for the predicted label.
std::vector<metrics::CocoDetection> DetectSet(detect::Detector& detector,
                                              const data::Dataset& set,
                                              const data::TransformConfig& transform,
                                              ImageCache& cache,
                                              int batch_size);

// The COCO metric of `detections` on `set`.
EvalPoint Score(const data::Dataset& set, const std::vector<metrics::CocoDetection>& detections);

}  // namespace autoloss::train
