# The built-in model catalog (a data file users extend with their own) is compiled in.
set(BP_MB_CATALOG ${CMAKE_CURRENT_LIST_DIR}/model_catalog.toml)
file(READ ${BP_MB_CATALOG} BP_CATALOG_TEXT)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${BP_MB_CATALOG})
configure_file(${CMAKE_CURRENT_LIST_DIR}/embedded_catalog.cc.in
               ${PROJECT_BINARY_DIR}/generated/embedded_catalog.cc @ONLY)
list(APPEND BP_SOURCES ${PROJECT_BINARY_DIR}/generated/embedded_catalog.cc)

# Scripts the workload writes into run folders are real files here, so that the ctest
# `check_scripts` runs bash -n and shellcheck, or py_compile, on them; each is compiled in as
# one string.
foreach(embed "gate_wrapper.sh:kGateWrapperPart" "launcher_wrapper.sh:kLauncherWrapper"
              "launcher_helper.py:kLauncherHelper")
  string(REPLACE ":" ";" embed ${embed})
  list(GET embed 0 BP_EMBED_FILE)
  list(GET embed 1 BP_EMBED_SYMBOL)
  file(READ ${CMAKE_CURRENT_LIST_DIR}/${BP_EMBED_FILE} BP_EMBED_TEXT)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
               ${CMAKE_CURRENT_LIST_DIR}/${BP_EMBED_FILE})
  configure_file(${CMAKE_CURRENT_LIST_DIR}/embedded_text.cc.in
                 ${PROJECT_BINARY_DIR}/generated/${BP_EMBED_SYMBOL}.cc @ONLY)
  list(APPEND BP_SOURCES ${PROJECT_BINARY_DIR}/generated/${BP_EMBED_SYMBOL}.cc)
endforeach()
