# customeriq_add_plugin(<id> SOURCES <files>...)
#
# Builds the plugin <id> as <id>.so (plugin id = library name = folder name),
# against the SDK only, with hidden visibility so the descriptor is the one
# exported symbol. The same helper serves in-tree and out-of-tree plugins.
function(customeriq_add_plugin id)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "" "SOURCES")
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "customeriq_add_plugin(${id}): SOURCES is required")
  endif()
  set(target customeriq_plugin_${id})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE CustomerIQ::sdk)
  # Only the descriptor is exported: no library internals leak into the
  # host's symbol space, and the library can be unloaded again.
  target_link_options(${target} PRIVATE
    "LINKER:--version-script=${CMAKE_CURRENT_FUNCTION_LIST_DIR}/customeriq_plugin.map")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS
    "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/customeriq_plugin.map")
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME ${id}
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  set_property(GLOBAL APPEND PROPERTY CUSTOMERIQ_PLUGIN_TARGETS ${target})
  if(DEFINED CUSTOMERIQ_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${CUSTOMERIQ_PLUGIN_OUTPUT_DIR}")
  endif()
  if(DEFINED CUSTOMERIQ_PLUGIN_INSTALL_DIR)
    install(TARGETS ${target} LIBRARY DESTINATION "${CUSTOMERIQ_PLUGIN_INSTALL_DIR}")
  endif()
endfunction()
