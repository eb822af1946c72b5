#include "util/error.h"

namespace autoloss {

namespace {

std::string Join(const std::string& context, const std::string& message) {
    return context.empty() ? message : context + ": " + message;
}

}  // namespace

InputError::InputError(std::string context, const std::string& message)
    : std::runtime_error(Join(context, message)), context_(std::move(context)), message_(message) {}

}  // namespace autoloss
