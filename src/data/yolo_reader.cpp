#include "data/yolo_reader.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/error.h"

namespace autoloss::data {

namespace {

namespace fs = std::filesystem;

bool IsImage(const fs::path& path) {
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
    });
    return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp";
}

}  // namespace

Dataset ReadYoloDataset(const std::string& image_dir,
                        const std::string& label_dir,
                        const std::string& names_file,
                        const ReadOptions& options) {
    std::ifstream names(names_file);
    if (!names) {
        throw InputError(names_file, "cannot open the class names file");
    }
    std::vector<Category> categories;
    std::string line;
    while (std::getline(names, line)) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
            line.pop_back();
        }
        if (!line.empty()) {
            categories.push_back({static_cast<int64_t>(categories.size()) + 1, line});
        }
    }
    std::error_code error;
    if (!fs::is_directory(image_dir, error)) {
        throw InputError(image_dir, "not a folder of images");
    }
    std::vector<fs::path> images;
    for (const auto& entry : fs::directory_iterator(image_dir)) {
        if (entry.is_regular_file() && IsImage(entry.path())) {
            images.push_back(entry.path());
        }
    }
    std::sort(images.begin(), images.end());

    // Sizes must come from the files: YOLO coordinates are fractions of them.
    ReadOptions checked = options;
    checked.check_images = ImageCheck::kHeader;
    DatasetBuilder builder(fs::path(image_dir).filename().string(), categories, checked);
    for (size_t i = 0; i < images.size(); ++i) {
        ImageRecord image;
        image.id = static_cast<int64_t>(i) + 1;
        image.path = images[i].string();
        if (!builder.AddImage(image, images[i].filename().string())) {
            continue;
        }
        const fs::path label_path = fs::path(label_dir) / (images[i].stem().string() + ".txt");
        std::ifstream labels(label_path);
        if (!labels) {
            continue;  // YOLO's convention: an image without a label file has no objects
        }
        // AddImage read the size from the file header.
        const Dataset& partial = builder.Peek();
        const double w = partial.images.back().width;
        const double h = partial.images.back().height;
        int number = 0;
        while (std::getline(labels, line)) {
            ++number;
            const std::string where = label_path.filename().string() + ":" + std::to_string(number);
            std::istringstream fields(line);
            double label = 0, cx = 0, cy = 0, bw = 0, bh = 0;
            std::string rest;
            if (line.find_first_not_of(" \t\r") == std::string::npos) {
                continue;
            }
            if (!(fields >> label >> cx >> cy >> bw >> bh) || (fields >> rest) ||
                label != std::floor(label) || !std::isfinite(cx + cy + bw + bh)) {
                throw InputError(label_path.string() + ":" + std::to_string(number),
                                 "expected 'class cx cy w h', got '" + line + "'");
            }
            if (label < 0 || label >= static_cast<double>(categories.size())) {
                builder.Report(LoadReport::kUnknownCategory,
                               where + " class " + std::to_string(static_cast<long>(label)));
                continue;
            }
            builder.AddBox((cx - bw / 2) * w,
                           (cy - bh / 2) * h,
                           (cx + bw / 2) * w,
                           (cy + bh / 2) * h,
                           static_cast<int>(label),
                           false,
                           -1.0,
                           where);
        }
    }
    return builder.Finish();
}

}  // namespace autoloss::data
