# find_package(CustomerIQ) for plugins built outside the source tree.
include(CMakeFindDependencyMacro)
find_dependency(nlohmann_json 3.10)
find_dependency(Boost 1.74)
include("${CMAKE_CURRENT_LIST_DIR}/CustomerIQSdkTargets.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/CustomerIQPlugin.cmake")
