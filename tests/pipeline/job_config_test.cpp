// Search job configs: the presets load, the config as run reads back, bad files are errors.

#include "pipeline/job_config.h"

#include <filesystem>
#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include "pipeline/detector_stages.h"
#include "util/error.h"

namespace autoloss::pipeline {
namespace {

namespace fs = std::filesystem;

class JobConfigTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("autoloss_job_" + std::to_string(::getpid()));
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string Write(const std::string& text) {
        const fs::path path = dir_ / "job.yaml";
        std::ofstream(path) << text;
        return path.string();
    }

    std::string LoadError(const std::string& text) {
        try {
            LoadJobConfig(Write(text));
        } catch (const InputError& error) {
            return error.what();
        }
        return "";
    }

    fs::path dir_;
};

TEST_F(JobConfigTest, PresetsLoadWithTheirDataInsideTheProject) {
    for (const char* name : {"smoke", "demo", "paper"}) {
        const JobConfig config = LoadJobConfig(PresetPath(name));
        EXPECT_GT(config.search.population, 1) << name;
        EXPECT_FALSE(config.final_seeds.empty()) << name;
        if (std::string(name) == "paper") {
            // COCO 2017, which a user links in; val2017 held out, the proxy val drawn.
            EXPECT_EQ(config.data_format, "coco");
            EXPECT_EQ(fs::path(config.data_root).filename(), "coco");
            EXPECT_EQ(config.test_split, "val2017");
            EXPECT_GT(config.val_fraction, 0.0);
            EXPECT_EQ(config.proxy.data_format, "coco");
        } else {
            EXPECT_TRUE(fs::is_directory(config.data_root)) << name << ": " << config.data_root;
        }
    }
    const JobConfig demo = LoadJobConfig(PresetPath("demo"));
    EXPECT_EQ(demo.branch, Branch::kReg);
    EXPECT_EQ(demo.search.set, expr::SetKind::kReg);
    // The run sections apply over the shared one.
    EXPECT_EQ(demo.simulate.min_size, demo.proxy.min_size);
    EXPECT_NE(demo.simulate.iterations, demo.proxy.iterations);
    EXPECT_EQ(SearchedSet(Branch::kCls, "fcos"), expr::SetKind::kClsBinary);
    EXPECT_EQ(SearchedSet(Branch::kCls, "faster_rcnn"), expr::SetKind::kClsMulti);
}

TEST_F(JobConfigTest, TheConfigAsRunReadsBackToTheSameValues) {
    const JobConfig demo = LoadJobConfig(PresetPath("demo"));
    const JobConfig again = LoadJobConfig(Write(ToYaml(demo)));
    EXPECT_EQ(ToYaml(again), ToYaml(demo));
    EXPECT_EQ(again.data_root, demo.data_root);
    EXPECT_EQ(again.final_seeds, demo.final_seeds);
    EXPECT_EQ(again.search.threshold_fraction, demo.search.threshold_fraction);
    const JobConfig paper = LoadJobConfig(PresetPath("paper"));
    const JobConfig paper_again = LoadJobConfig(Write(ToYaml(paper)));
    EXPECT_EQ(paper_again.data_format, "coco");
    EXPECT_EQ(paper_again.val_fraction, paper.val_fraction);
}

// The proxy task's val images drawn from the training split: disjoint from what the proxy
// trains on, D_verify among the latter, the final check's training split whole.
TEST_F(JobConfigTest, ValFractionCarvesTheProxyValSetOutOfTheTrainingSplit) {
    JobConfig config = LoadJobConfig(PresetPath("demo"));
    config.val_fraction = 0.1;
    config.val_split = "no-such-split";  // unused when the val images are drawn
    const SearchData data = LoadSearchData(config);
    EXPECT_EQ(data.train.NumImages(), 205u);
    EXPECT_EQ(data.val.NumImages(), 21u);
    EXPECT_EQ(data.proxy_train.NumImages(), 184u);
    std::set<std::string> trained;
    for (const auto& image : data.proxy_train.images) {
        trained.insert(image.path);
    }
    for (const auto& image : data.val.images) {
        EXPECT_FALSE(trained.count(image.path)) << image.path;
    }
    for (const auto& image : data.verify.images) {
        EXPECT_TRUE(trained.count(image.path)) << image.path;
    }
    EXPECT_EQ(data.verify.NumImages(), 3u);
}

TEST_F(JobConfigTest, BadConfigsNameTheKey) {
    EXPECT_NE(LoadError("branch: reg\nbogus: 1\n").find("key 'bogus': unknown key"),
              std::string::npos);
    EXPECT_NE(LoadError("branch: sideways\ndata: {root: .}\n").find("not cls or reg"),
              std::string::npos);
    EXPECT_NE(LoadError("branch: reg\n").find("data.root"), std::string::npos);
    EXPECT_NE(LoadError("data: {root: .}\nsearch: {population: 1}\n").find("population"),
              std::string::npos);
    EXPECT_NE(LoadError("data: {root: .}\nsearch: {popsize: 10}\n").find("search.popsize"),
              std::string::npos);
    EXPECT_NE(LoadError("data: {root: .}\nproxy: {iterations: 0}\n").find("iterations"),
              std::string::npos);
    EXPECT_NE(LoadError("data: {root: .}\ntrain: {lr: fast}\n").find("lr"), std::string::npos);
    EXPECT_NE(LoadError("data: {root: .}\nfinal: {seeds: []}\n").find("at least one seed"),
              std::string::npos);
    EXPECT_NE(LoadError("data: {root: ., format: pascal}\n").find("data.format"),
              std::string::npos);
    EXPECT_NE(LoadError("data: {root: ., val_fraction: 0.7}\n").find("data.val_fraction"),
              std::string::npos);
    EXPECT_NE(LoadError("[1, 2]").find("YAML mapping"), std::string::npos);
    EXPECT_NE(LoadError("branch: reg\n  bad: indent: here\n").find("job.yaml"), std::string::npos);
    EXPECT_THROW(PresetPath("nope"), InputError);
}

}  // namespace
}  // namespace autoloss::pipeline
