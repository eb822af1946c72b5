#include <cstdio>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "train/predict.h"
#include "util/error.h"

namespace autoloss::train {

void DrawPredictions(const std::string& image_path,
                     const std::vector<Prediction>& predictions,
                     const std::vector<std::string>& classes,
                     float min_score,
                     const std::string& png_path) {
    cv::Mat image = cv::imread(image_path, cv::IMREAD_COLOR);
    if (image.empty()) {
        throw InputError(image_path, "cannot decode the image");
    }
    // One fixed colour per class so pictures of the same model compare at a glance.
    static const cv::Scalar kColours[] = {
        {0, 0, 255}, {0, 200, 0}, {255, 0, 0}, {0, 200, 200}, {200, 0, 200}, {200, 200, 0}};
    for (const Prediction& p : predictions) {
        if (p.score < min_score) {
            continue;
        }
        const cv::Scalar colour = kColours[p.label % 6];
        cv::rectangle(image,
                      cv::Point(static_cast<int>(p.box[0]), static_cast<int>(p.box[1])),
                      cv::Point(static_cast<int>(p.box[2]), static_cast<int>(p.box[3])),
                      colour,
                      2);
        char text[128];
        const std::string name =
            p.label >= 0 && p.label < static_cast<int>(classes.size()) ? classes[p.label] : "?";
        std::snprintf(text, sizeof(text), "%s %.2f", name.c_str(), p.score);
        cv::putText(image,
                    text,
                    cv::Point(static_cast<int>(p.box[0]) + 2, static_cast<int>(p.box[1]) + 14),
                    cv::FONT_HERSHEY_SIMPLEX,
                    0.45,
                    colour,
                    1);
    }
    if (!cv::imwrite(png_path, image)) {
        throw InputError(png_path, "cannot write the PNG");
    }
}

}  // namespace autoloss::train
