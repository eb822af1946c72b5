#pragma once

#include <stdexcept>
#include <string>

namespace autoloss {

// Bad input from a user (a formula, a config, a data set, a command line). `context()` says
// where it was found (a file, a field, a character position); `what()` is "context: message".
class InputError : public std::runtime_error {
  public:
    InputError(std::string context, const std::string& message);

    // Where the offending value was found, e.g. "formula 'Neg(' at character 4".
    const std::string& context() const { return context_; }

    // The message without its context.
    const std::string& message() const { return message_; }

  private:
    std::string context_;
    std::string message_;
};

}  // namespace autoloss
