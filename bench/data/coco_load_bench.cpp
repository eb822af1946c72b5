// Loading a large COCO instances file: 120,000 images and 900,000 boxes (synthetic, seeded),
// written to a temporary file and read with ReadCocoDataset (image checks off: the images do
// not exist). Prints the wall time and the peak memory of the load alone, the latter measured
// by resetting the kernel's high-water mark (/proc/self/clear_refs) after the file is written.

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "data/coco_reader.h"

namespace {

constexpr int kImages = 120000;
constexpr int kBoxes = 900000;

long PeakRssKiB() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) {
            return std::stol(line.substr(6));
        }
    }
    return -1;
}

long RssKiB() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::stol(line.substr(6));
        }
    }
    return -1;
}

void WriteFile(const std::string& path) {
    std::mt19937_64 rng(4);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::ofstream out(path);
    out << "{\"info\":{\"description\":\"synthetic\"},\"licenses\":[],\"categories\":[";
    for (int k = 1; k <= 80; ++k) {
        out << (k > 1 ? "," : "") << "{\"id\":" << k << ",\"name\":\"class" << k
            << "\",\"supercategory\":\"x\"}";
    }
    out << "],\"images\":[";
    char buffer[512];
    for (int i = 0; i < kImages; ++i) {
        std::snprintf(buffer,
                      sizeof(buffer),
                      "%s\n{\"id\":%d,\"file_name\":\"%012d.jpg\",\"width\":640,\"height\":480,"
                      "\"license\":1,\"date_captured\":\"2013-11-14 11:18:45\"}",
                      i ? "," : "",
                      i + 1,
                      i + 1);
        out << buffer;
    }
    out << "],\"annotations\":[";
    for (int n = 0; n < kBoxes; ++n) {
        const double w = 4 + 300 * unit(rng);
        const double h = 4 + 200 * unit(rng);
        const double x = unit(rng) * (636 - w);
        const double y = unit(rng) * (476 - h);
        // A polygon segmentation like COCO's, which the reader must skip without storing.
        std::snprintf(buffer,
                      sizeof(buffer),
                      "%s\n{\"id\":%d,\"image_id\":%d,\"category_id\":%d,\"iscrowd\":0,"
                      "\"area\":%.2f,\"bbox\":[%.2f,%.2f,%.2f,%.2f],\"segmentation\":[[%.2f,%.2f,"
                      "%.2f,%.2f,%.2f,%.2f,%.2f,%.2f]]}",
                      n ? "," : "",
                      n + 1,
                      1 + static_cast<int>(unit(rng) * kImages),
                      1 + static_cast<int>(unit(rng) * 80),
                      0.7 * w * h,
                      x,
                      y,
                      w,
                      h,
                      x,
                      y,
                      x + w,
                      y,
                      x + w,
                      y + h,
                      x,
                      y + h);
        out << buffer;
    }
    out << "]}\n";
}

}  // namespace

int main() {
    const std::string path =
        (std::filesystem::temp_directory_path() / "autoloss_coco_load_bench.json").string();
    WriteFile(path);
    const double file_mib = static_cast<double>(std::filesystem::file_size(path)) / (1 << 20);
    std::ofstream("/proc/self/clear_refs") << "5";  // reset VmHWM to the current RSS
    const long rss_before = RssKiB();
    const auto start = std::chrono::steady_clock::now();
    autoloss::data::ReadOptions options;
    options.check_images = autoloss::data::ImageCheck::kNone;
    const autoloss::data::Dataset dataset =
        autoloss::data::ReadCocoDataset(path, "/images", options);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const long peak = PeakRssKiB();
    const long rss_after = RssKiB();
    std::printf(
        "coco_load images=%zu boxes=%zu file_MiB=%.1f seconds=%.3f peak_rss_increase_MiB=%.1f "
        "dataset_rss_MiB=%.1f\n",
        dataset.NumImages(),
        dataset.boxes.size(),
        file_mib,
        seconds,
        static_cast<double>(peak - rss_before) / 1024.0,
        static_cast<double>(rss_after - rss_before) / 1024.0);
    std::filesystem::remove(path);
    return 0;
}
