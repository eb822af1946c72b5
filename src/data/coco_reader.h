#pragma once

#include <string>

#include "data/builder.h"
#include "data/dataset.h"

namespace autoloss::data {

// Reads a COCO instances file; image paths are `image_dir`/file_name. Labels follow ascending
// category id. Repairs (counted in the report): duplicate image or annotation ids (first kept),
// annotations naming unknown images or categories, degenerate, clipped or outside boxes, missing
// or truncated image files, wrong image sizes. Throws InputError naming the file and record for
// what cannot be repaired: malformed or non-COCO JSON, missing fields, duplicate category ids,
// an image without file_name.
Dataset ReadCocoDataset(const std::string& json_path,
                        const std::string& image_dir,
                        const ReadOptions& options = {});

}  // namespace autoloss::data
