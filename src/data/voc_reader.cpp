#include "data/voc_reader.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <tinyxml2.h>

#include "util/error.h"

namespace autoloss::data {

namespace {

namespace fs = std::filesystem;

struct VocObject {
    std::string name;
    double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
    bool difficult = false;
};

struct VocFile {
    std::string filename;
    int width = 0;
    int height = 0;
    std::vector<VocObject> objects;
};

const tinyxml2::XMLElement* Child(const tinyxml2::XMLElement* parent,
                                  const char* tag,
                                  const std::string& where) {
    const tinyxml2::XMLElement* child = parent->FirstChildElement(tag);
    if (child == nullptr) {
        throw InputError(where, std::string("missing <") + tag + ">");
    }
    return child;
}

std::string Text(const tinyxml2::XMLElement* element) {
    const char* text = element->GetText();
    std::string value = text ? text : "";
    const auto first = value.find_first_not_of(" \t\r\n");
    const auto last = value.find_last_not_of(" \t\r\n");
    return first == std::string::npos ? "" : value.substr(first, last - first + 1);
}

double Number(const tinyxml2::XMLElement* parent, const char* tag, const std::string& where) {
    const std::string text = Text(Child(parent, tag, where));
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !std::isfinite(value)) {
        throw InputError(where, std::string("<") + tag + "> is not a number: '" + text + "'");
    }
    return value;
}

VocFile ParseVocFile(const std::string& path) {
    tinyxml2::XMLDocument document;
    if (document.LoadFile(path.c_str()) != tinyxml2::XML_SUCCESS) {
        throw InputError(path, std::string("malformed XML: ") + document.ErrorStr());
    }
    const tinyxml2::XMLElement* root = document.FirstChildElement("annotation");
    if (root == nullptr) {
        throw InputError(path, "not a VOC annotation: no <annotation> element");
    }
    VocFile file;
    if (const auto* filename = root->FirstChildElement("filename")) {
        file.filename = Text(filename);
    }
    if (const auto* size = root->FirstChildElement("size")) {
        // A zero or absent size is repaired from the image file.
        if (size->FirstChildElement("width") && size->FirstChildElement("height")) {
            file.width = static_cast<int>(Number(size, "width", path + ": <size>"));
            file.height = static_cast<int>(Number(size, "height", path + ": <size>"));
        }
    }
    int index = 0;
    for (const auto* object = root->FirstChildElement("object"); object != nullptr;
         object = object->NextSiblingElement("object"), ++index) {
        const std::string where = path + ": object " + std::to_string(index);
        VocObject o;
        o.name = Text(Child(object, "name", where));
        if (o.name.empty()) {
            throw InputError(where, "empty <name>");
        }
        const tinyxml2::XMLElement* box = Child(object, "bndbox", where);
        o.x1 = Number(box, "xmin", where);
        o.y1 = Number(box, "ymin", where);
        o.x2 = Number(box, "xmax", where);
        o.y2 = Number(box, "ymax", where);
        if (const auto* difficult = object->FirstChildElement("difficult")) {
            o.difficult = Text(difficult) == "1";
        }
        file.objects.push_back(std::move(o));
    }
    return file;
}

std::vector<std::string> ReadSplit(const fs::path& path) {
    std::ifstream file(path);
    if (!file) {
        throw InputError(path.string(), "cannot open the split file");
    }
    std::vector<std::string> stems;
    std::string line;
    while (std::getline(file, line)) {
        // VOC's per-class split files add a flag after the stem; keep the first word.
        const auto first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos) {
            continue;
        }
        const auto end = line.find_first_of(" \t\r", first);
        stems.push_back(line.substr(first, end == std::string::npos ? end : end - first));
    }
    return stems;
}

}  // namespace

Dataset ReadVocDataset(const std::string& root,
                       const std::string& split,
                       const VocOptions& options) {
    const fs::path annotations = fs::path(root) / "Annotations";
    std::error_code error;
    if (!fs::is_directory(annotations, error)) {
        throw InputError(root, "not a VOC data set: no Annotations/ folder");
    }
    std::vector<std::string> all_stems;
    for (const auto& entry : fs::directory_iterator(annotations)) {
        if (entry.path().extension() == ".xml") {
            all_stems.push_back(entry.path().stem().string());
        }
    }
    std::sort(all_stems.begin(), all_stems.end());
    std::map<std::string, size_t> position;
    for (size_t n = 0; n < all_stems.size(); ++n) {
        position[all_stems[n]] = n;
    }
    auto xml_path = [&](const std::string& stem) {
        return (annotations / (stem + ".xml")).string();
    };

    // Labels: given, or every class name of the whole data set, sorted.
    std::vector<std::string> names = options.class_names;
    std::map<std::string, VocFile> parsed;
    if (names.empty()) {
        std::set<std::string> found;
        for (const std::string& stem : all_stems) {
            VocFile file = ParseVocFile(xml_path(stem));
            for (const VocObject& object : file.objects) {
                found.insert(object.name);
            }
            parsed.emplace(stem, std::move(file));
        }
        names.assign(found.begin(), found.end());
    }
    std::vector<Category> categories;
    std::map<std::string, int> label_of;
    for (size_t n = 0; n < names.size(); ++n) {
        categories.push_back({static_cast<int64_t>(n + 1), names[n]});
        label_of[names[n]] = static_cast<int>(n);
    }

    const std::vector<std::string> stems =
        split.empty() ? all_stems
                      : ReadSplit(fs::path(root) / "ImageSets" / "Main" / (split + ".txt"));
    DatasetBuilder builder(fs::path(root).filename().string() + (split.empty() ? "" : ":" + split),
                           categories,
                           options);
    std::set<std::string> seen;
    for (const std::string& stem : stems) {
        if (!seen.insert(stem).second) {
            builder.Report(LoadReport::kDuplicateImage, split + ".txt lists " + stem + " twice");
            continue;
        }
        const auto at = position.find(stem);
        if (at == position.end()) {
            builder.Report(LoadReport::kMissingImage, "no annotation file for " + stem);
            continue;
        }
        const std::string path = xml_path(stem);
        const auto cached = parsed.find(stem);
        const VocFile file = cached != parsed.end() ? cached->second : ParseVocFile(path);
        ImageRecord image;
        image.id = static_cast<int64_t>(at->second) + 1;
        image.path = (fs::path(root) / "JPEGImages" /
                      (file.filename.empty() ? stem + ".jpg" : file.filename))
                         .string();
        image.width = file.width;
        image.height = file.height;
        if (!builder.AddImage(std::move(image), fs::path(path).filename().string())) {
            continue;
        }
        for (size_t n = 0; n < file.objects.size(); ++n) {
            const VocObject& object = file.objects[n];
            const auto label = label_of.find(object.name);
            const std::string where =
                fs::path(path).filename().string() + " object " + std::to_string(n);
            if (label == label_of.end()) {
                throw InputError(path + ": object " + std::to_string(n),
                                 "class '" + object.name + "' is not among the given class names");
            }
            if (object.difficult && !options.keep_difficult) {
                continue;
            }
            builder.AddBox(
                object.x1, object.y1, object.x2, object.y2, label->second, false, -1.0, where);
        }
    }
    return builder.Finish();
}

}  // namespace autoloss::data
