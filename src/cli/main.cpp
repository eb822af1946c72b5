// autoloss: loss-function search for object detectors (CSE-Autoloss), one executable with a
// subcommand per task.

#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "util/error.h"

int main(int argc, char** argv) {
    CLI::App app("autoloss: discovers loss functions for object detectors (CSE-Autoloss)");
    app.require_subcommand(1);
    app.set_version_flag("--version", "autoloss 0.1.0");
    autoloss::cli::AddFormulaCommands(app);
    autoloss::cli::AddScreeningCommands(app);
    autoloss::cli::AddEvalCocoCommands(app);
    autoloss::cli::AddTrainCommands(app);
    autoloss::cli::AddSearchCommands(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        return app.exit(error);
    } catch (const autoloss::InputError& error) {
        std::fprintf(stderr, "error: %s\n", error.what());
        return 1;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "error: %s\n", error.what());
        return 1;
    }
    return 0;
}
