#pragma once

#include <string>
#include <vector>

#include "data/builder.h"
#include "data/dataset.h"

namespace autoloss::data {

// Options of the Pascal VOC reader.
struct VocOptions : ReadOptions {
    // Class names in label order; empty means every <name> found under Annotations/, sorted,
    // so that all splits of one data set agree on the labels.
    std::vector<std::string> class_names;
    bool keep_difficult = true;  // objects marked <difficult>1</difficult>
};

// Reads a Pascal VOC data set: `root`/Annotations/<stem>.xml and the images they name under
// `root`/JPEGImages/. `split` names `root`/ImageSets/Main/<split>.txt (one stem a line); empty
// reads every annotation file. Coordinates are taken as written (x1 = xmin, ..., no 1-based
// shift). Image ids are the 1-based positions of the stems in the sorted annotation list, equal
// across splits. Repairs as the COCO reader; throws InputError naming the file (and object) for
// malformed XML, a missing tag (<object> without <name> or <bndbox>, <bndbox> without
// <xmin>...), non-numeric coordinates, an unknown class name when class_names is given, and a
// missing split file.
Dataset ReadVocDataset(const std::string& root,
                       const std::string& split,
                       const VocOptions& options = {});

}  // namespace autoloss::data
