#include "data/builder.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "data/image_file.h"
#include "util/error.h"

namespace autoloss::data {

DatasetBuilder::DatasetBuilder(std::string name,
                               std::vector<Category> categories,
                               ReadOptions options)
    : options_(options) {
    dataset_.name = std::move(name);
    dataset_.categories = std::move(categories);
}

bool DatasetBuilder::AddImage(ImageRecord image, const std::string& where) {
    current_ok_ = false;
    const bool size_known = image.width > 0 && image.height > 0;
    if (options_.check_images == ImageCheck::kHeader ||
        (options_.check_images == ImageCheck::kExists && !size_known)) {
        const ImageHeader header = ReadImageHeader(image.path);
        if (!header.ok) {
            dataset_.report.Add(
                header.missing ? LoadReport::kMissingImage : LoadReport::kUnreadableImage,
                where + " " + image.path + (header.missing ? "" : ": " + header.problem));
            return false;
        }
        if (header.width != image.width || header.height != image.height) {
            dataset_.report.Add(LoadReport::kImageSizeFromFile,
                                where + " says " + std::to_string(image.width) + "x" +
                                    std::to_string(image.height) + ", the file " +
                                    std::to_string(header.width) + "x" +
                                    std::to_string(header.height));
            image.width = header.width;
            image.height = header.height;
        }
    } else if (options_.check_images == ImageCheck::kExists) {
        std::error_code error;
        if (!std::filesystem::is_regular_file(image.path, error)) {
            dataset_.report.Add(LoadReport::kMissingImage, where + " " + image.path);
            return false;
        }
    } else if (!size_known) {
        throw InputError(where, "the image size is not given and image checks are off");
    }
    image.first_box = static_cast<uint32_t>(dataset_.boxes.size());
    image.num_boxes = 0;
    dataset_.images.push_back(std::move(image));
    current_ok_ = true;
    return true;
}

void DatasetBuilder::AddBox(double x1,
                            double y1,
                            double x2,
                            double y2,
                            int label,
                            bool crowd,
                            double area,
                            const std::string& where) {
    if (!current_ok_) {
        return;
    }
    if (!(x2 > x1) || !(y2 > y1)) {
        dataset_.report.Add(LoadReport::kDegenerateBox, where);
        return;
    }
    ImageRecord& image = dataset_.images.back();
    const double w = image.width;
    const double h = image.height;
    if (x2 <= 0 || y2 <= 0 || x1 >= w || y1 >= h) {
        dataset_.report.Add(LoadReport::kOutsideBox, where);
        return;
    }
    if (x1 < 0 || y1 < 0 || x2 > w || y2 > h) {
        dataset_.report.Add(LoadReport::kClippedBox, where);
        x1 = std::max(x1, 0.0);
        y1 = std::max(y1, 0.0);
        x2 = std::min(x2, w);
        y2 = std::min(y2, h);
    }
    Box box;
    box.x1 = static_cast<float>(x1);
    box.y1 = static_cast<float>(y1);
    box.x2 = static_cast<float>(x2);
    box.y2 = static_cast<float>(y2);
    box.label = label;
    box.crowd = crowd;
    box.area = static_cast<float>(area >= 0 ? area : (x2 - x1) * (y2 - y1));
    dataset_.boxes.push_back(box);
    ++image.num_boxes;
}

}  // namespace autoloss::data
