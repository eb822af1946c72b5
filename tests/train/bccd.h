#pragma once

// The repository's own copy of BCCD (so tests run on a fresh clone) and images picked from it.

#include <string>
#include <vector>

#include "data/source.h"

namespace autoloss::train {

// The BCCD folder inside the project.
inline const std::string kBccd = std::string(AUTOLOSS_SOURCE_DIR) + "/data/bccd";

// The images of BCCD's `split` whose file stems are `stems`, in that order.
inline data::Dataset BccdImages(const std::string& split, const std::vector<std::string>& stems) {
    const data::Dataset all = data::ReadSplit({data::Format::kVoc, kBccd, {}}, split);
    return data::Subset(all, data::FindImages(all, stems));
}

// Four training images the detector tests overfit and resume on.
inline data::Dataset FourBccdTrainingImages() {
    return BccdImages(
        "train", {"BloodImage_00001", "BloodImage_00003", "BloodImage_00004", "BloodImage_00005"});
}

}  // namespace autoloss::train
