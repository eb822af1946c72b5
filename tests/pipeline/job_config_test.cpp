// Search job configs: the presets load, the config as run reads back, bad files are errors.

#include "pipeline/job_config.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

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
        EXPECT_TRUE(fs::is_directory(config.data_root)) << name << ": " << config.data_root;
        EXPECT_GT(config.search.population, 1) << name;
        EXPECT_FALSE(config.final_seeds.empty()) << name;
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
    EXPECT_NE(LoadError("[1, 2]").find("YAML mapping"), std::string::npos);
    EXPECT_NE(LoadError("branch: reg\n  bad: indent: here\n").find("job.yaml"), std::string::npos);
    EXPECT_THROW(PresetPath("nope"), InputError);
}

}  // namespace
}  // namespace autoloss::pipeline
