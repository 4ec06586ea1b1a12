# The built-in model catalog (a data file users extend with their own) is compiled in.
set(BP_MB_CATALOG ${CMAKE_CURRENT_LIST_DIR}/model_catalog.toml)
file(READ ${BP_MB_CATALOG} BP_CATALOG_TEXT)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${BP_MB_CATALOG})
configure_file(${CMAKE_CURRENT_LIST_DIR}/embedded_catalog.cc.in
               ${PROJECT_BINARY_DIR}/generated/embedded_catalog.cc @ONLY)
list(APPEND BP_SOURCES ${PROJECT_BINARY_DIR}/generated/embedded_catalog.cc)
