#include "metrics/coco_format.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "metrics/json_sax.h"
#include "util/error.h"

namespace autoloss::metrics {

namespace {

// The record kinds a COCO file holds; kSkip is any other top-level key (info, licenses, ...).
enum class Section { kNone, kImages, kAnnotations, kCategories, kResults, kSkip };

const char* SectionName(Section section) {
    switch (section) {
        case Section::kImages:
            return "images";
        case Section::kAnnotations:
            return "annotations";
        case Section::kCategories:
            return "categories";
        case Section::kResults:
            return "results";
        default:
            return "?";
    }
}

enum class Field {
    kOther,
    kId,
    kImageId,
    kCategoryId,
    kBbox,
    kArea,
    kIscrowd,
    kScore,
    kWidth,
    kHeight,
    kFileName,
    kName,
    kSupercategory,
};

Field ParseField(Section section, const std::string& key) {
    switch (section) {
        case Section::kImages:
            if (key == "id")
                return Field::kId;
            if (key == "width")
                return Field::kWidth;
            if (key == "height")
                return Field::kHeight;
            if (key == "file_name")
                return Field::kFileName;
            return Field::kOther;
        case Section::kCategories:
            if (key == "id")
                return Field::kId;
            if (key == "name")
                return Field::kName;
            if (key == "supercategory")
                return Field::kSupercategory;
            return Field::kOther;
        case Section::kAnnotations:
            if (key == "id")
                return Field::kId;
            if (key == "image_id")
                return Field::kImageId;
            if (key == "category_id")
                return Field::kCategoryId;
            if (key == "bbox")
                return Field::kBbox;
            if (key == "area")
                return Field::kArea;
            if (key == "iscrowd")
                return Field::kIscrowd;
            return Field::kOther;
        case Section::kResults:
            if (key == "image_id")
                return Field::kImageId;
            if (key == "category_id")
                return Field::kCategoryId;
            if (key == "bbox")
                return Field::kBbox;
            if (key == "score")
                return Field::kScore;
            return Field::kOther;
        default:
            return Field::kOther;
    }
}

// Bits of the fields seen in the current record, to report missing required ones.
constexpr unsigned Bit(Field field) {
    return 1u << static_cast<unsigned>(field);
}

// "line 3, column 17" for a byte offset, so a user can find a syntax error in a large file.
std::string LineColumn(std::string_view text, size_t position) {
    size_t line = 1;
    size_t column = 1;
    for (size_t i = 0; i < position && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// A streaming (SAX) reader for both COCO formats: it never builds a DOM, so memory stays
// proportional to the records kept, and it skips segmentations without storing them.
// Depths count open containers; a record's fields live at depth record_depth_.
class CocoSaxReader {
  public:
    CocoSaxReader(std::string_view text, std::string context, bool results)
        : text_(text),
          context_(std::move(context)),
          results_(results),
          record_depth_(results ? 2 : 3) {}

    CocoInstances instances;
    std::vector<CocoDetection> detections;

    void Finish() {
        if (results_) {
            return;
        }
        for (Section section : {Section::kImages, Section::kAnnotations, Section::kCategories}) {
            if (!(sections_seen_ & (1u << static_cast<unsigned>(section)))) {
                throw InputError(context_,
                                 std::string("not a COCO instances file: no \"") +
                                     SectionName(section) + "\" array");
            }
        }
    }

    bool null() { return Scalar("null"); }
    bool boolean(bool value) {
        if (InRecordField() && field_ == Field::kIscrowd) {
            annotation_.iscrowd = value;
            seen_ |= Bit(field_);
            return true;
        }
        return Scalar("a boolean");
    }
    bool number_integer(int64_t value) { return Number(static_cast<double>(value), value, true); }
    bool number_unsigned(uint64_t value) {
        const bool fits = value <= static_cast<uint64_t>(INT64_MAX);
        return Number(static_cast<double>(value), fits ? static_cast<int64_t>(value) : 0, fits);
    }
    bool number_float(double value) {
        const bool integral = std::isfinite(value) && value == std::floor(value) &&
                              std::fabs(value) < 9.007199254740992e15;
        return Number(value, integral ? static_cast<int64_t>(value) : 0, integral);
    }
    bool string(std::string& value) {
        if (InRecordField()) {
            switch (field_) {
                case Field::kFileName:
                    image_.file_name = std::move(value);
                    seen_ |= Bit(field_);
                    return true;
                case Field::kName:
                    category_.name = std::move(value);
                    seen_ |= Bit(field_);
                    return true;
                case Field::kSupercategory:
                    category_.supercategory = std::move(value);
                    seen_ |= Bit(field_);
                    return true;
                default:
                    break;
            }
        }
        return Scalar("a string");
    }
    bool start_object() {
        ++depth_;
        if (skip_depth_ > 0) {
            return true;
        }
        if (depth_ == 1 && results_) {
            throw InputError(context_,
                             "not a COCO results list: the top level is an object, expected an "
                             "array of {image_id, category_id, bbox, score} (is this an "
                             "instances file?)");
        }
        if (depth_ == record_depth_ && section_ != Section::kSkip) {
            BeginRecord();
            return true;
        }
        if (depth_ > 1) {
            if (InRecordField() && field_ != Field::kOther) {
                throw RecordError(std::string("field \"") + key_ + "\" must not be an object");
            }
            if (depth_ == record_depth_ - 1 && section_ != Section::kSkip) {
                throw InputError(
                    context_,
                    std::string("\"") + SectionName(section_) + "\" must be an array of objects");
            }
            skip_depth_ = depth_;
        }
        return true;
    }

    bool end_object() {
        if (skip_depth_ == depth_) {
            skip_depth_ = 0;
        } else if (skip_depth_ == 0 && depth_ == record_depth_) {
            EndRecord();
        }
        --depth_;
        return true;
    }

    bool start_array() {
        ++depth_;
        if (skip_depth_ > 0) {
            return true;
        }
        if (depth_ == 1) {
            if (!results_) {
                throw InputError(context_,
                                 "not a COCO instances file: the top level is an array, expected "
                                 "an object with images, annotations and categories (is this a "
                                 "results list?)");
            }
            section_ = Section::kResults;
            sections_seen_ |= 1u << static_cast<unsigned>(section_);
            return true;
        }
        if (depth_ == record_depth_ - 1 && section_ != Section::kSkip) {
            sections_seen_ |= 1u << static_cast<unsigned>(section_);
            record_index_ = 0;
            return true;
        }
        if (depth_ == record_depth_ + 1 && field_ == Field::kBbox && section_ != Section::kSkip) {
            bbox_count_ = 0;
            return true;
        }
        if (InRecordField() || (depth_ == record_depth_ && section_ != Section::kSkip)) {
            if (depth_ == record_depth_) {
                throw SectionError("an array");
            }
            if (field_ != Field::kOther) {
                throw RecordError(std::string("field \"") + key_ + "\" must not be an array");
            }
        }
        skip_depth_ = depth_;
        return true;
    }

    bool end_array() {
        if (skip_depth_ == depth_) {
            skip_depth_ = 0;
        } else if (skip_depth_ == 0 && depth_ == record_depth_ + 1 && field_ == Field::kBbox &&
                   section_ != Section::kSkip) {
            if (bbox_count_ != 4) {
                throw RecordError("bbox has " + std::to_string(bbox_count_) +
                                  " numbers, expected 4 (x, y, w, h)");
            }
            seen_ |= Bit(Field::kBbox);
        } else if (skip_depth_ == 0 && depth_ == record_depth_ - 1) {
            // Leaving a section array; results end with the document.
            if (!results_) {
                section_ = Section::kNone;
            }
        }
        --depth_;
        return true;
    }

    bool key(std::string& value) {
        if (skip_depth_ > 0) {
            return true;
        }
        if (depth_ == 1 && !results_) {
            if (value == "images") {
                section_ = Section::kImages;
            } else if (value == "annotations") {
                section_ = Section::kAnnotations;
            } else if (value == "categories") {
                section_ = Section::kCategories;
            } else {
                section_ = Section::kSkip;
            }
            if (section_ != Section::kSkip &&
                (sections_seen_ & (1u << static_cast<unsigned>(section_)))) {
                throw InputError(context_,
                                 std::string("\"") + SectionName(section_) + "\" appears twice");
            }
            return true;
        }
        if (depth_ == record_depth_) {
            key_ = value;
            field_ = ParseField(section_, key_);
        }
        return true;
    }

    [[noreturn]] void syntax_error(size_t position, const char* reason) {
        throw InputError(context_,
                         "malformed JSON at " + LineColumn(text_, position) + ": " + reason);
    }

  private:
    bool InRecordField() const { return skip_depth_ == 0 && depth_ == record_depth_; }

    std::string RecordName() const {
        return std::string(SectionName(section_)) + "[" + std::to_string(record_index_) + "]";
    }

    InputError RecordError(const std::string& message) const {
        return InputError(context_ + ": " + RecordName(), message);
    }

    InputError SectionError(const std::string& what) const {
        return InputError(context_,
                          std::string("\"") + SectionName(section_) + "\"[" +
                              std::to_string(record_index_) + "] is " + what +
                              ", expected an object");
    }

    // A scalar outside the places that take one: harmless in skipped parts, an error in a
    // record field we read or as a record itself.
    bool Scalar(const char* kind) {
        if (depth_ == 0) {
            throw InputError(context_, std::string("not COCO JSON: the document is ") + kind);
        }
        if (skip_depth_ > 0 || section_ == Section::kSkip || section_ == Section::kNone) {
            return true;
        }
        if (!results_ && depth_ == 1) {
            throw InputError(
                context_,
                std::string("\"") + SectionName(section_) + "\" must be an array, got " + kind);
        }
        if (depth_ == record_depth_ - 1) {
            throw SectionError(kind);
        }
        if (InRecordField() && field_ != Field::kOther) {
            if (std::string_view(kind) == "null") {
                throw RecordError(std::string("field \"") + key_ + "\" is null");
            }
            throw RecordError(std::string("field \"") + key_ + "\" has the wrong type (" + kind +
                              ")");
        }
        if (depth_ == record_depth_ + 1 && field_ == Field::kBbox) {
            throw RecordError(std::string("bbox holds ") + kind + ", expected numbers");
        }
        return true;
    }

    bool Number(double value, int64_t integer, bool is_integer) {
        if (depth_ == 0 || (!results_ && depth_ == 1)) {
            return Scalar("a number");
        }
        if (skip_depth_ > 0 || section_ == Section::kSkip || section_ == Section::kNone) {
            return true;
        }
        if (depth_ == record_depth_ + 1 && field_ == Field::kBbox) {
            if (!std::isfinite(value)) {
                throw RecordError("bbox holds a number out of range");
            }
            if (bbox_count_ < 4) {
                bbox_[bbox_count_] = value;
            }
            ++bbox_count_;
            return true;
        }
        if (depth_ == record_depth_ - 1) {
            throw SectionError("a number");
        }
        if (!InRecordField()) {
            return true;
        }
        if (!std::isfinite(value)) {
            throw RecordError(std::string("field \"") + key_ + "\" is out of range");
        }
        auto need_integer = [&]() {
            if (!is_integer) {
                char text[32];
                std::snprintf(text, sizeof(text), "%.17g", value);
                throw RecordError(std::string("field \"") + key_ + "\" must be an integer, got " +
                                  text);
            }
            return integer;
        };
        switch (field_) {
            case Field::kId:
                id_ = need_integer();
                break;
            case Field::kImageId:
                image_id_ = need_integer();
                break;
            case Field::kCategoryId:
                category_id_ = need_integer();
                break;
            case Field::kWidth:
                image_.width = need_integer();
                break;
            case Field::kHeight:
                image_.height = need_integer();
                break;
            case Field::kArea:
                annotation_.area = value;
                break;
            case Field::kIscrowd:
                annotation_.iscrowd = value != 0.0;
                break;
            case Field::kScore:
                score_ = value;
                break;
            case Field::kOther:
                return true;
            default:
                throw RecordError(std::string("field \"") + key_ + "\" must be a string");
        }
        seen_ |= Bit(field_);
        return true;
    }

    void BeginRecord() {
        seen_ = 0;
        field_ = Field::kOther;
        image_ = CocoImage{};
        category_ = CocoCategory{};
        annotation_ = CocoAnnotation{};
    }

    void Require(unsigned fields) const {
        static constexpr std::pair<Field, const char*> kNames[] = {
            {Field::kId, "id"},
            {Field::kImageId, "image_id"},
            {Field::kCategoryId, "category_id"},
            {Field::kBbox, "bbox"},
            {Field::kScore, "score"},
        };
        for (const auto& [field, name] : kNames) {
            if ((fields & Bit(field)) && !(seen_ & Bit(field))) {
                throw RecordError(std::string("missing field \"") + name + "\"");
            }
        }
    }

    void EndRecord() {
        switch (section_) {
            case Section::kImages:
                Require(Bit(Field::kId));
                image_.id = id_;
                instances.images.push_back(std::move(image_));
                break;
            case Section::kCategories:
                Require(Bit(Field::kId));
                category_.id = id_;
                if (!(seen_ & Bit(Field::kName))) {
                    category_.name = std::to_string(id_);
                }
                instances.categories.push_back(std::move(category_));
                break;
            case Section::kAnnotations:
                Require(Bit(Field::kId) | Bit(Field::kImageId) | Bit(Field::kCategoryId) |
                        Bit(Field::kBbox));
                annotation_.id = id_;
                annotation_.image_id = image_id_;
                annotation_.category_id = category_id_;
                annotation_.bbox = bbox_;
                annotation_.has_area = (seen_ & Bit(Field::kArea)) != 0;
                if (!annotation_.has_area) {
                    annotation_.area = bbox_[2] * bbox_[3];
                }
                instances.annotations.push_back(annotation_);
                break;
            case Section::kResults: {
                Require(Bit(Field::kImageId) | Bit(Field::kCategoryId) | Bit(Field::kBbox) |
                        Bit(Field::kScore));
                detections.push_back({image_id_, category_id_, bbox_, score_});
                break;
            }
            default:
                break;
        }
        ++record_index_;
    }

    std::string_view text_;
    std::string context_;
    bool results_;
    int record_depth_;
    int depth_ = 0;
    int skip_depth_ = 0;  // depth of the container being skipped, 0 when none
    Section section_ = Section::kNone;
    unsigned sections_seen_ = 0;
    size_t record_index_ = 0;
    std::string key_;
    Field field_ = Field::kOther;
    unsigned seen_ = 0;
    int64_t id_ = 0;
    int64_t image_id_ = 0;
    int64_t category_id_ = 0;
    double score_ = 0.0;
    std::array<double, 4> bbox_{};
    int bbox_count_ = 0;
    CocoImage image_;
    CocoCategory category_;
    CocoAnnotation annotation_;
};

void Parse(CocoSaxReader& reader, std::string_view text) {
    JsonSaxParser<CocoSaxReader>(text, reader).Parse();
    reader.Finish();
}

}  // namespace

CocoInstances ParseCocoInstances(std::string_view text, const std::string& context) {
    CocoSaxReader reader(text, context, false);
    Parse(reader, text);
    return std::move(reader.instances);
}

std::vector<CocoDetection> ParseCocoResults(std::string_view text, const std::string& context) {
    CocoSaxReader reader(text, context, true);
    Parse(reader, text);
    return std::move(reader.detections);
}

std::string ReadTextFile(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        throw InputError(path, "cannot open the file");
    }
    file.seekg(0, std::ios::end);
    const std::streamoff size = file.tellg();
    if (size < 0) {
        throw InputError(path, "cannot read the file");
    }
    std::string text(static_cast<size_t>(size), '\0');
    file.seekg(0, std::ios::beg);
    if (!file.read(text.data(), size)) {
        throw InputError(path, "cannot read the file");
    }
    return text;
}

CocoInstances ReadCocoInstances(const std::string& path) {
    return ParseCocoInstances(ReadTextFile(path), path);
}

std::vector<CocoDetection> ReadCocoResults(const std::string& path) {
    return ParseCocoResults(ReadTextFile(path), path);
}

std::string FormatCocoResults(const std::vector<CocoDetection>& detections) {
    std::string out = "[";
    out.reserve(detections.size() * 96 + 4);
    char buffer[32];
    auto number = [&](double value) {
        // The shortest text that reads back to the same double, as Python's json writes it.
        const auto end = std::to_chars(buffer, buffer + sizeof(buffer), value).ptr;
        out.append(buffer, end);
    };
    for (size_t i = 0; i < detections.size(); ++i) {
        const CocoDetection& d = detections[i];
        out += i == 0 ? "\n{\"image_id\":" : ",\n{\"image_id\":";
        out += std::to_string(d.image_id);
        out += ",\"category_id\":";
        out += std::to_string(d.category_id);
        out += ",\"bbox\":[";
        for (int c = 0; c < 4; ++c) {
            number(d.bbox[c]);
            out += c < 3 ? "," : "],\"score\":";
        }
        number(d.score);
        out += "}";
    }
    out += detections.empty() ? "]\n" : "\n]\n";
    return out;
}

void WriteCocoResults(const std::string& path, const std::vector<CocoDetection>& detections) {
    std::ofstream file(path, std::ios::binary);
    if (!file) {
        throw InputError(path, "cannot open the file for writing");
    }
    const std::string text = FormatCocoResults(detections);
    if (!file.write(text.data(), static_cast<std::streamsize>(text.size()))) {
        throw InputError(path, "cannot write the file");
    }
}

}  // namespace autoloss::metrics
