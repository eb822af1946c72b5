#pragma once

// Internal invariants: a failed check is a bug in autoloss, never a user's mistake, so it prints
// where it broke and aborts (also in release builds; the checks sit outside hot loops).

#include <cstdio>
#include <cstdlib>

#define AUTOLOSS_CHECK(condition, message)                                      \
    do {                                                                        \
        if (!(condition)) {                                                     \
            std::fprintf(stderr,                                                \
                         "autoloss: internal check failed at %s:%d: %s (%s)\n", \
                         __FILE__,                                              \
                         __LINE__,                                              \
                         #condition,                                            \
                         message);                                              \
            std::abort();                                                       \
        }                                                                       \
    } while (false)
