#pragma once

// Runs the autoloss executable as a user would and captures what it prints.

#include <sys/wait.h>
#include <array>
#include <cstdio>
#include <string>

namespace autoloss::testing {

struct CliResult {
    int exit_code = -1;
    std::string output;  // stdout and stderr together
};

// Runs `autoloss <arguments>` through the shell (arguments are shell words).
inline CliResult RunCli(const std::string& arguments) {
    const std::string command = std::string(AUTOLOSS_BINARY) + " " + arguments + " 2>&1";
    CliResult result;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) {
        return result;
    }
    std::array<char, 4096> buffer;
    std::size_t read = 0;
    while ((read = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
        result.output.append(buffer.data(), read);
    }
    const int status = pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

}  // namespace autoloss::testing
