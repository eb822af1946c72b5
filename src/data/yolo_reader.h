#pragma once

#include <string>

#include "data/builder.h"
#include "data/dataset.h"

namespace autoloss::data {

// Reads a YOLO data set: every .jpg/.jpeg/.png/.bmp in `image_dir` (sorted by name, ids 1..),
// its labels in `label_dir`/<stem>.txt (one "class cx cy w h" line a box, normalised to [0, 1];
// no file means no boxes) and the class names in `names_file` (one a line, label = line index,
// category id = label + 1). Image sizes come from the files, so header checks always run.
// Repairs as the other readers, plus class indices outside the names (counted as unknown
// categories). Throws InputError naming the file and line for a malformed label line, and when
// the folder or the names file cannot be read.
Dataset ReadYoloDataset(const std::string& image_dir,
                        const std::string& label_dir,
                        const std::string& names_file,
                        const ReadOptions& options = {});

}  // namespace autoloss::data
