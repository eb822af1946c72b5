#include "data/source.h"

#include <algorithm>
#include <filesystem>
#include <unordered_map>

#include "data/coco_reader.h"
#include "data/voc_reader.h"
#include "data/yolo_reader.h"
#include "util/error.h"

namespace autoloss::data {

namespace {

namespace fs = std::filesystem;

Dataset ReadCocoSplit(const DataSource& source, const std::string& split) {
    const fs::path root(source.root);
    const fs::path json = root / "annotations" / ("instances_" + split + ".json");
    if (!fs::is_regular_file(json)) {
        throw InputError(json.string(), "no COCO annotation file for split '" + split + "'");
    }
    // COCO's own layout keeps images in <root>/<split>/; many copies add an images/ level.
    fs::path images = root / "images" / split;
    if (!fs::is_directory(images)) {
        images = root / split;
    }
    if (!fs::is_directory(images)) {
        throw InputError(root.string(), "no image folder images/" + split + "/ or " + split + "/");
    }
    return ReadCocoDataset(json.string(), images.string());
}

Dataset ReadYoloSplit(const DataSource& source, const std::string& split) {
    const fs::path root(source.root);
    return ReadYoloDataset((root / "images" / split).string(),
                           (root / "labels" / split).string(),
                           (root / "classes.txt").string());
}

// ReadSplit without the checks on the result.
Dataset ReadSplitAsIs(const DataSource& source, const std::string& split) {
    if (source.root.empty()) {
        throw InputError("data root", "is empty; name the data set's folder");
    }
    if (!fs::is_directory(source.root)) {
        throw InputError(source.root, "no such data folder");
    }
    if (source.format == Format::kVoc) {
        VocOptions options;
        options.class_names = source.class_names;
        return ReadVocDataset(source.root, split, options);
    }
    Dataset dataset = source.format == Format::kCoco ? ReadCocoSplit(source, split)
                                                     : ReadYoloSplit(source, split);
    if (!source.class_names.empty()) {
        std::vector<std::string> names;
        for (const Category& category : dataset.categories) {
            names.push_back(category.name);
        }
        if (names != source.class_names) {
            throw InputError(source.root + " (split " + split + ")",
                             "the class list given does not match the data set's categories; "
                             "leave it out for " +
                                 FormatName(source.format) + " data");
        }
    }
    return dataset;
}

// The first label whose category differs (or the shorter list's length).
size_t FirstDifference(const Dataset& a, const Dataset& b) {
    size_t k = 0;
    while (k < a.categories.size() && k < b.categories.size() &&
           a.categories[k].id == b.categories[k].id &&
           a.categories[k].name == b.categories[k].name) {
        ++k;
    }
    return k;
}

}  // namespace

Format ParseFormat(const std::string& name, const std::string& where) {
    if (name == "voc") {
        return Format::kVoc;
    }
    if (name == "coco") {
        return Format::kCoco;
    }
    if (name == "yolo") {
        return Format::kYolo;
    }
    throw InputError(where, "unknown data format '" + name + "'; expected voc, coco or yolo");
}

std::string FormatName(Format format) {
    switch (format) {
        case Format::kVoc:
            return "voc";
        case Format::kCoco:
            return "coco";
        case Format::kYolo:
            return "yolo";
    }
    return "voc";
}

Dataset ReadSplit(const DataSource& source, const std::string& split) {
    Dataset dataset = ReadSplitAsIs(source, split);
    const std::string where =
        source.root + " (" + FormatName(source.format) + " split '" + split + "')";
    if (dataset.images.empty()) {
        throw InputError(
            where,
            "has no usable image" + std::string(dataset.report.TotalRepairs() > 0
                                                    ? " (" + dataset.report.Summary() + ")"
                                                    : ""));
    }
    if (dataset.categories.empty()) {
        throw InputError(where, "lists no category");
    }
    return dataset;
}

std::string RepairLine(const Dataset& dataset, const std::string& split) {
    if (dataset.report.TotalRepairs() == 0) {
        return "";
    }
    std::string summary = dataset.report.Summary();
    std::replace(summary.begin(), summary.end(), '\n', ';');
    return "split=" + split + " repairs=" + std::to_string(dataset.report.TotalRepairs()) + " " +
           summary;
}

void RequireSameCategories(const Dataset& reference,
                           const Dataset& other,
                           const std::string& where) {
    const auto differ = [&] {
        if (reference.categories.size() != other.categories.size()) {
            return true;
        }
        for (size_t k = 0; k < reference.categories.size(); ++k) {
            if (reference.categories[k].id != other.categories[k].id ||
                reference.categories[k].name != other.categories[k].name) {
                return true;
            }
        }
        return false;
    };
    if (differ()) {
        throw InputError(where,
                         "has " + std::to_string(other.categories.size()) +
                             " categories that differ from the training split's " +
                             std::to_string(reference.categories.size()) +
                             " (names, ids or order; first difference at label " +
                             std::to_string(FirstDifference(reference, other)) +
                             "); every split must share one category list");
    }
}

std::vector<size_t> FindImages(const Dataset& dataset, const std::vector<std::string>& stems) {
    std::unordered_map<std::string, size_t> by_stem;
    for (size_t k = 0; k < dataset.images.size(); ++k) {
        by_stem.emplace(fs::path(dataset.images[k].path).stem().string(), k);
    }
    std::vector<size_t> indices;
    for (const std::string& stem : stems) {
        const auto it = by_stem.find(stem);
        if (it == by_stem.end()) {
            throw InputError(dataset.name, "no image named '" + stem + "'");
        }
        indices.push_back(it->second);
    }
    return indices;
}

}  // namespace autoloss::data
