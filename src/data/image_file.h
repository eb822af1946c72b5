#pragma once

// Image files: a cheap header check (size and completeness, without decoding) used when a data
// set loads, and the full decode used by the loader.

#include <string>
#include <vector>

namespace autoloss::data {

// What a header check found: `ok` with the pixel size, or `problem` ("missing", "truncated
// JPEG: no end-of-image marker", ...).
struct ImageHeader {
    bool ok = false;
    bool missing = false;
    int width = 0;
    int height = 0;
    std::string problem;
};

// Reads the size of a JPEG or PNG file from its header and checks that the file is complete
// (JPEG ends with its end-of-image marker, PNG with IEND); other formats are decoded by OpenCV.
ImageHeader ReadImageHeader(const std::string& path);

// A decoded image: [height, width, 3] uint8 RGB, row-major.
struct DecodedImage {
    int width = 0;
    int height = 0;
    std::vector<unsigned char> rgb;
};

// Decodes an image file with OpenCV; throws InputError(path, ...) when it cannot be decoded.
DecodedImage DecodeImage(const std::string& path);

}  // namespace autoloss::data
