# Helpers that give every autoloss target the same flags, include root and (for libtorch users)
# the shared precompiled header.

set(AUTOLOSS_SOURCE_ROOT ${CMAKE_CURRENT_LIST_DIR}/../src)

# autoloss_library(NAME SOURCES... [DEPS targets...]): one static library per module.
function(autoloss_library name)
    cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
    add_library(${name} STATIC ${ARG_SOURCES})
    target_include_directories(${name} PUBLIC ${AUTOLOSS_SOURCE_ROOT})
    target_link_libraries(${name} PUBLIC ${ARG_DEPS})
    autoloss_flags(${name})
endfunction()

function(autoloss_flags target)
    # -Wrestrict misfires on std::string concatenation in GCC 12 (GCC bug 105329).
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter -Wno-restrict)
    if(AUTOLOSS_NATIVE)
        target_compile_options(${target} PRIVATE -march=native)
    endif()
endfunction()

# autoloss_use_torch(TARGET): links libtorch and reuses one precompiled <torch/torch.h>, which
# alone takes about 17 s to parse per source file.
function(autoloss_use_torch target)
    if(NOT TARGET autoloss_torch_pch)
        file(WRITE ${CMAKE_BINARY_DIR}/torch_pch.cpp "// Anchor of the shared libtorch PCH.\n")
        add_library(autoloss_torch_pch STATIC ${CMAKE_BINARY_DIR}/torch_pch.cpp)
        target_link_libraries(autoloss_torch_pch PUBLIC ${TORCH_LIBRARIES})
        target_precompile_headers(autoloss_torch_pch PUBLIC <torch/torch.h>)
        autoloss_flags(autoloss_torch_pch)
    endif()
    target_link_libraries(${target} PUBLIC autoloss_torch_pch)
    target_precompile_headers(${target} REUSE_FROM autoloss_torch_pch)
endfunction()

# autoloss_test(NAME SOURCES... DEPS targets...): one GoogleTest binary, tests discovered by CTest.
function(autoloss_test name)
    cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
    add_executable(${name} ${ARG_SOURCES})
    target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
    # Helpers shared by several test folders live under tests/ (e.g. tests/train/fixtures.h).
    target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests)
    target_compile_definitions(${name} PRIVATE
        AUTOLOSS_SHARED_DIR="${CMAKE_SOURCE_DIR}/../shared"
        AUTOLOSS_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
    autoloss_flags(${name})
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 120)
endfunction()
