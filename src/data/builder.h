#pragma once

// The validation every reader shares: image files checked, boxes clipped or dropped, each
// repair counted in the data set's LoadReport.

#include <string>
#include <vector>

#include "data/dataset.h"

namespace autoloss::data {

// How much of each image file a reader checks on load.
enum class ImageCheck {
    kNone,    // trust the annotations (sizes must be given)
    kExists,  // the file must exist; its header is read only when the size is not given
    kHeader,  // the header is read: size, format and completeness (truncated files are dropped)
};

// Options every reader takes.
struct ReadOptions {
    ImageCheck check_images = ImageCheck::kHeader;
};

// Builds a Dataset one image at a time: AddImage, then AddBox for its boxes.
class DatasetBuilder {
  public:
    DatasetBuilder(std::string name, std::vector<Category> categories, ReadOptions options);

    // Starts an image (its width/height may be 0 when unknown). Checks its file as the options
    // say; returns false, counting why, when the image is dropped (its boxes are then ignored).
    // `where` names the record for the report and errors (e.g. "images[3] (id 7)").
    bool AddImage(ImageRecord image, const std::string& where);

    // Adds a box x1 y1 x2 y2 (pixels) to the current image: degenerate boxes are dropped,
    // boxes reaching outside the image clipped or dropped, all counted. A negative `area`
    // means "use the box area".
    void AddBox(double x1,
                double y1,
                double x2,
                double y2,
                int label,
                bool crowd,
                double area,
                const std::string& where);

    // Counts a repair the reader made itself (unknown ids, duplicates).
    void Report(LoadReport::Kind kind, const std::string& detail) {
        dataset_.report.Add(kind, detail);
    }

    // The data set built so far (e.g. the size AddImage read from the current image's file).
    const Dataset& Peek() const { return dataset_; }

    Dataset Finish() { return std::move(dataset_); }

  private:
    Dataset dataset_;
    ReadOptions options_;
    bool current_ok_ = false;
};

}  // namespace autoloss::data
