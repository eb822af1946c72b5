#include "data/image_file.h"

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "util/error.h"

namespace autoloss::data {

namespace {

int BigEndian16(const unsigned char* p) {
    return (p[0] << 8) | p[1];
}

uint32_t BigEndian32(const unsigned char* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// The last bytes of the file with trailing padding (NUL, whitespace) removed.
std::string Tail(std::ifstream& file, std::streamoff size, std::streamoff count) {
    const std::streamoff start = std::max<std::streamoff>(0, size - count);
    std::string tail(static_cast<size_t>(size - start), '\0');
    file.clear();
    file.seekg(start);
    file.read(tail.data(), static_cast<std::streamsize>(tail.size()));
    while (!tail.empty() && (tail.back() == '\0' || tail.back() == '\n' || tail.back() == '\r' ||
                             tail.back() == ' ')) {
        tail.pop_back();
    }
    return tail;
}

// Walks the JPEG marker segments to the first start-of-frame (SOF0..SOF15 except DHT, JPG, DAC).
bool JpegSize(std::ifstream& file, int& width, int& height) {
    file.clear();
    file.seekg(2);
    unsigned char b[8];
    for (int segments = 0; segments < 4096; ++segments) {
        if (!file.read(reinterpret_cast<char*>(b), 1) || b[0] != 0xFF) {
            return false;
        }
        unsigned char marker = 0xFF;
        while (marker == 0xFF) {
            if (!file.read(reinterpret_cast<char*>(&marker), 1)) {
                return false;
            }
        }
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {
            continue;  // standalone markers carry no length
        }
        if (!file.read(reinterpret_cast<char*>(b), 2)) {
            return false;
        }
        const int length = BigEndian16(b);
        if (length < 2) {
            return false;
        }
        if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
            marker != 0xCC) {
            if (!file.read(reinterpret_cast<char*>(b), 5)) {
                return false;
            }
            height = BigEndian16(b + 1);
            width = BigEndian16(b + 3);
            return true;
        }
        file.seekg(length - 2, std::ios::cur);
    }
    return false;
}

}  // namespace

ImageHeader ReadImageHeader(const std::string& path) {
    ImageHeader header;
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error)) {
        header.missing = true;
        header.problem = "missing";
        return header;
    }
    std::ifstream file(path, std::ios::binary);
    unsigned char head[24] = {};
    file.seekg(0, std::ios::end);
    const std::streamoff size = file.tellg();
    file.seekg(0);
    if (!file || size < 24 || !file.read(reinterpret_cast<char*>(head), 24)) {
        header.problem = "unreadable or too short to be an image";
        return header;
    }
    if (head[0] == 0xFF && head[1] == 0xD8) {
        if (!JpegSize(file, header.width, header.height)) {
            header.problem = "corrupt JPEG: no frame header";
            return header;
        }
        const std::string tail = Tail(file, size, 64);
        if (tail.size() < 2 || static_cast<unsigned char>(tail[tail.size() - 2]) != 0xFF ||
            static_cast<unsigned char>(tail.back()) != 0xD9) {
            header.problem = "truncated JPEG: no end-of-image marker";
            return header;
        }
    } else if (std::memcmp(head, "\x89PNG\r\n\x1a\n", 8) == 0 &&
               std::memcmp(head + 12, "IHDR", 4) == 0) {
        header.width = static_cast<int>(BigEndian32(head + 16));
        header.height = static_cast<int>(BigEndian32(head + 20));
        const std::string tail = Tail(file, size, 64);
        if (tail.size() < 8 || tail.compare(tail.size() - 8, 4, "IEND") != 0) {
            header.problem = "truncated PNG: no IEND chunk";
            return header;
        }
    } else {
        const cv::Mat image = cv::imread(path, cv::IMREAD_COLOR);
        if (image.empty()) {
            header.problem = "not a decodable image";
            return header;
        }
        header.width = image.cols;
        header.height = image.rows;
    }
    if (header.width <= 0 || header.height <= 0) {
        header.problem = "image header gives no size";
        return header;
    }
    header.ok = true;
    return header;
}

DecodedImage DecodeImage(const std::string& path) {
    const cv::Mat bgr = cv::imread(path, cv::IMREAD_COLOR);
    if (bgr.empty()) {
        throw InputError(path, "cannot decode the image");
    }
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    DecodedImage image;
    image.width = rgb.cols;
    image.height = rgb.rows;
    image.rgb.assign(rgb.data, rgb.data + rgb.total() * 3);
    return image;
}

}  // namespace autoloss::data
