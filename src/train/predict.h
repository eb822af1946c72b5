#pragma once

#include <array>
#include <string>
#include <vector>

#include "train/config.h"

namespace autoloss::train {

// One detection in original image pixels.
struct Prediction {
    std::array<float, 4> box;  // x1 y1 x2 y2
    float score = 0.0f;
    int label = 0;             // class index
};

// Loads the detector of `config` (with `classes`) from `model_path` (a model.pt written by
// Train) and detects objects on each image file. Throws InputError for unreadable files.
std::vector<std::vector<Prediction>> PredictImages(const TrainConfig& config,
                                                   const std::vector<std::string>& classes,
                                                   const std::string& model_path,
                                                   const std::vector<std::string>& images);

// Draws the predictions scoring at least `min_score` on `image_path` with class names and
// scores, and writes a PNG to `png_path`.
void DrawPredictions(const std::string& image_path,
                     const std::vector<Prediction>& predictions,
                     const std::vector<std::string>& classes,
                     float min_score,
                     const std::string& png_path);

}  // namespace autoloss::train
