#include "train/session.h"

#include <fstream>
#include <thread>

#include <ATen/Version.h>

#include <torch/torch.h>

#include "detect/faster_rcnn.h"
#include "detect/fcos.h"
#include "expr/parse.h"
#include "metrics/coco_eval.h"
#include "util/error.h"

namespace autoloss::train {

expr::SetKind ClsLossSet(const TrainConfig& config) {
    return config.detector == "faster_rcnn" ? expr::SetKind::kClsMulti : expr::SetKind::kClsBinary;
}

std::optional<expr::Formula> ResolveRegLoss(const TrainConfig& config) {
    if (config.detector == "faster_rcnn" && config.reg_loss == kSmoothL1) {
        return std::nullopt;
    }
    return expr::ResolveFormula(config.reg_loss, expr::SetKind::kReg);
}

namespace {

std::shared_ptr<detect::Detector> MakeFasterRcnn(const TrainConfig& config, int num_classes) {
    detect::FasterRcnnOptions options;
    options.num_classes = num_classes;
    options.backbone.depth = config.backbone_depth;
    options.backbone.width = config.backbone_width;
    options.fpn_channels = config.fpn_channels;
    options.roi.batch_per_image = config.roi_batch_per_image;
    options.roi.representation = config.roi_head_width;
    options.rpn.anchor_sizes.clear();
    for (std::size_t k = 0; k < detect::FasterRcnnStrides().size(); ++k) {
        options.rpn.anchor_sizes.push_back(config.anchor_size * static_cast<double>(1 << k));
    }
    return std::make_shared<detect::FasterRcnnImpl>(
        options,
        expr::ResolveFormula(config.cls_loss, expr::SetKind::kClsMulti),
        ResolveRegLoss(config));
}

std::shared_ptr<detect::Detector> MakeFcos(const TrainConfig& config, int num_classes) {
    const expr::Formula cls = expr::ResolveFormula(config.cls_loss, expr::SetKind::kClsBinary);
    const expr::Formula reg = expr::ResolveFormula(config.reg_loss, expr::SetKind::kReg);
    detect::FcosOptions options;
    options.num_classes = num_classes;
    options.backbone.depth = config.backbone_depth;
    options.backbone.width = config.backbone_width;
    options.fpn_channels = config.fpn_channels;
    options.tower_convs = config.tower_convs;
    options.initial_scale = config.fcos_initial_scale;
    options.learn_scales = config.fcos_learn_scales;
    return std::make_shared<detect::FcosImpl>(options, cls, reg);
}

}  // namespace

at::Device DeviceOf(const TrainConfig& config) {
    if (config.device == "cpu") {
        return at::Device(at::kCPU);
    }
    if (!torch::cuda::is_available()) {
        throw InputError("config key 'device'",
                         "'cuda' asked for, but this libtorch sees no CUDA device");
    }
    if (ResolvedPrecision(config) == "bf16") {
        // Autocast is wired for the CPU only; on a GPU the convolutions would stay fp32 while
        // the config says bf16.
        throw InputError("config key 'precision'", "bf16 runs on the CPU only; use fp32 on cuda");
    }
    return at::Device(at::kCUDA);
}

std::shared_ptr<detect::Detector> MakeDetector(const TrainConfig& config, int num_classes) {
    ValidateTrainConfig(config);
    const at::Device device = DeviceOf(config);
    std::shared_ptr<detect::Detector> model = config.detector == "faster_rcnn"
                                                  ? MakeFasterRcnn(config, num_classes)
                                                  : MakeFcos(config, num_classes);
    model->SetPrecision(ResolvedPrecision(config) == "bf16" ? detect::Precision::kBFloat16
                                                            : detect::Precision::kFloat32,
                        config.channels_last);
    model->to(device);
    return model;
}

detect::DetectionBatch ToDevice(const HostBatch& host, const at::Device& device) {
    detect::DetectionBatch batch;
    const auto f = torch::TensorOptions().dtype(torch::kFloat);
    batch.images =
        torch::from_blob(
            const_cast<float*>(host.images.data()), {host.batch, 3, host.height, host.width}, f)
            .to(device, /*non_blocking=*/false, /*copy=*/true);
    batch.boxes =
        torch::from_blob(const_cast<float*>(host.boxes.data()), {host.batch, host.max_boxes, 4}, f)
            .to(device, false, true);
    batch.labels =
        torch::from_blob(
            const_cast<int64_t*>(host.labels.data()), {host.batch, host.max_boxes}, torch::kLong)
            .to(device, false, true);
    batch.sizes = host.sizes;
    return batch;
}

std::vector<metrics::CocoDetection> DetectSet(detect::Detector& detector,
                                              const data::Dataset& set,
                                              const data::TransformConfig& transform,
                                              ImageCache& cache,
                                              int batch_size) {
    torch::NoGradGuard no_grad;
    const bool was_training = detector.is_training();
    detector.eval();
    std::vector<metrics::CocoDetection> result;
    const at::Device device = detector.parameters().front().device();
    for (std::size_t start = 0; start < set.images.size(); start += batch_size) {
        std::vector<int> indices;
        for (std::size_t k = start; k < std::min(set.images.size(), start + batch_size); ++k) {
            indices.push_back(static_cast<int>(k));
        }
        const HostBatch host = MakeHostBatch(set, indices, {}, transform, cache);
        const detect::DetectionBatch batch = ToDevice(host, device);
        const auto detections = detector.Detect(batch.images, batch.sizes);
        for (std::size_t b = 0; b < detections.size(); ++b) {
            const auto [scale_x, scale_y] = host.scales[b];
            const at::Tensor boxes =
                (detections[b].boxes.cpu() / torch::tensor({scale_x, scale_y, scale_x, scale_y}))
                    .contiguous();
            const at::Tensor scores = detections[b].scores.cpu().contiguous();
            const at::Tensor labels = detections[b].labels.cpu().contiguous();
            const auto bx = boxes.accessor<float, 2>();
            for (int64_t k = 0; k < boxes.size(0); ++k) {
                metrics::CocoDetection d;
                d.image_id = host.image_ids[b];
                d.category_id = set.categories[labels[k].item<int64_t>()].id;
                d.bbox = {bx[k][0], bx[k][1], bx[k][2] - bx[k][0], bx[k][3] - bx[k][1]};
                d.score = scores[k].item<float>();
                result.push_back(d);
            }
        }
    }
    detector.train(was_training);
    return result;
}

EvalPoint Score(const data::Dataset& set, const std::vector<metrics::CocoDetection>& detections) {
    metrics::CocoEvalParams params = metrics::CocoEvalParams::Default();
    params.threads = 1;
    const metrics::CocoEvalResult eval =
        metrics::EvaluateCoco(data::ToCocoInstances(set), detections, params);
    EvalPoint point;
    point.ap = std::max(0.0, eval.stats[0]);
    point.ap50 = std::max(0.0, eval.stats[1]);
    point.ap75 = std::max(0.0, eval.stats[2]);
    for (const auto& category : eval.per_category) {
        if (category.ap >= 0.0) {
            point.ap_per_class[category.name] = category.ap;
        }
    }
    return point;
}

int ConfigureThreads(int threads) {
    const int count = threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
    torch::set_num_threads(count);
    return count;
}

namespace {

// The BLAS shared object mapped into this process, from /proc/self/maps.
std::string LoadedBlas() {
    std::ifstream maps("/proc/self/maps");
    std::string found = "none";
    for (std::string line; std::getline(maps, line);) {
        if (line.find("openblas") != std::string::npos) {
            return "openblas";
        }
        if (line.find("/blas/libblas.so") != std::string::npos) {
            found = "reference";
        } else if (line.find("libmkl") != std::string::npos) {
            found = "mkl";
        }
    }
    return found;
}

}  // namespace

std::string RuntimeVersions() {
    std::string text = "libtorch=" + std::string(TORCH_VERSION) + " blas=" + LoadedBlas() +
                       " mkldnn=" + (at::hasMKLDNN() ? "yes" : "no");
    return text;
}

void RequireFastBlas() {
    if (LoadedBlas() == "reference") {
        throw InputError("blas",
                         "libtorch resolved BLAS to the reference implementation, tens "
                         "of times slower; install libopenblas0-pthread "
                         "(scripts/install-deps)");
    }
}

}  // namespace autoloss::train
