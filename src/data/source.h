#pragma once

// Where the splits of a detection data set live, as training and search configs name them:
// one folder and a format, each split found by name inside it.

#include <string>
#include <vector>

#include "data/dataset.h"

namespace autoloss::data {

// The folder layouts a config can name.
enum class Format {
    kVoc,   // root/ImageSets/Main/<split>.txt listing stems of root/Annotations/*.xml
    kCoco,  // root/annotations/instances_<split>.json, images in root/images/<split>/ or
            // root/<split>/
    kYolo,  // root/images/<split>/, root/labels/<split>/, class names in root/classes.txt
};

// "voc", "coco" or "yolo" as a Format; InputError(where, ...) listing the formats otherwise.
Format ParseFormat(const std::string& name, const std::string& where);

// The config spelling of `format`.
std::string FormatName(Format format);

// A data set's folder and layout.
struct DataSource {
    Format format = Format::kVoc;
    std::string root;
    // VOC: the label order (empty: every class name under Annotations/, sorted). COCO and YOLO
    // fix their own order; a non-empty list must then equal their category names.
    std::vector<std::string> class_names;
};

// Reads split `split` of `source`. Every split of one source labels categories alike (VOC
// sorts the names of all annotations, COCO follows category ids, YOLO the names file), which
// RequireSameCategories checks. Throws InputError naming the missing file or folder, and when
// the split holds no usable image or no category.
Dataset ReadSplit(const DataSource& source, const std::string& split);

// Throws InputError naming `where` unless `other` has the categories of `reference`, in the
// same order (a model trained on one is then scored correctly on the other).
void RequireSameCategories(const Dataset& reference,
                           const Dataset& other,
                           const std::string& where);

// One log line of what reading `split` repaired or dropped ("split=val repairs=2 dropped 2 boxes
// with zero or negative size, e.g. ..."); empty when nothing was.
std::string RepairLine(const Dataset& dataset, const std::string& split);

// The indices of the images whose file stems (names without folder and extension, e.g.
// "BloodImage_00001") are `stems`, in that order. Throws InputError naming a stem not found.
std::vector<size_t> FindImages(const Dataset& dataset, const std::vector<std::string>& stems);

}  // namespace autoloss::data
