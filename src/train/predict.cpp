#include "train/predict.h"

#include <torch/torch.h>

#include "data/image_file.h"
#include "train/batch.h"
#include "train/session.h"
#include "util/error.h"

namespace autoloss::train {

std::vector<std::vector<Prediction>> PredictImages(const TrainConfig& config,
                                                   const std::vector<std::string>& classes,
                                                   const std::string& model_path,
                                                   const std::vector<std::string>& images) {
    auto model = MakeDetector(config, static_cast<int>(classes.size()));
    try {
        torch::serialize::InputArchive archive;
        archive.load_from(model_path, DeviceOf(config));
        model->load(archive);
    } catch (const c10::Error& error) {
        throw InputError(model_path, std::string("cannot load the model: ") + error.msg());
    }
    // Model weights are stored in the layout they were trained in; relayout for this config.
    model->SetPrecision(ResolvedPrecision(config) == "bf16" ? detect::Precision::kBFloat16
                                                            : detect::Precision::kFloat32,
                        config.channels_last);
    // The images as a data set without boxes; category ids 1.. map detections back to labels.
    data::Dataset set;
    for (std::size_t k = 0; k < classes.size(); ++k) {
        set.categories.push_back({static_cast<int64_t>(k + 1), classes[k]});
    }
    for (std::size_t k = 0; k < images.size(); ++k) {
        const data::ImageHeader header = data::ReadImageHeader(images[k]);
        if (!header.ok) {
            throw InputError(images[k], "cannot read the image: " + header.problem);
        }
        data::ImageRecord image;
        image.id = static_cast<int64_t>(k + 1);
        image.path = images[k];
        image.width = header.width;
        image.height = header.height;
        set.images.push_back(image);
    }
    ImageCache cache;
    const auto detections =
        DetectSet(*model,
                  set,
                  DetectorTransform(config.min_size, config.max_size),
                  cache,
                  config.eval_batch_size);
    std::vector<std::vector<Prediction>> result(images.size());
    for (const auto& d : detections) {
        Prediction p;
        p.box = {static_cast<float>(d.bbox[0]),
                 static_cast<float>(d.bbox[1]),
                 static_cast<float>(d.bbox[0] + d.bbox[2]),
                 static_cast<float>(d.bbox[1] + d.bbox[3])};
        p.score = static_cast<float>(d.score);
        p.label = static_cast<int>(d.category_id - 1);
        result[d.image_id - 1].push_back(p);
    }
    return result;
}

}  // namespace autoloss::train
