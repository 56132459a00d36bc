# One static library per folder under src/ (one concern each), and one unit test
# executable from the *_test.cpp files that sit beside the code they test.
#
#   statesink_module(NAME migrate DEPENDS statesink_db statesink_util PkgConfig::LIBCRYPTO)
function(statesink_module)
  cmake_parse_arguments(ARG "" "NAME" "DEPENDS;EXTRA_SOURCES" ${ARGN})
  set(dir ${CMAKE_CURRENT_SOURCE_DIR}/${ARG_NAME})
  file(GLOB sources CONFIGURE_DEPENDS ${dir}/*.cpp)
  file(GLOB tests CONFIGURE_DEPENDS ${dir}/*_test.cpp)
  if(tests)
    list(REMOVE_ITEM sources ${tests})
  endif()
  set(target statesink_${ARG_NAME})
  add_library(${target} STATIC ${sources} ${ARG_EXTRA_SOURCES})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR}/src ${PROJECT_BINARY_DIR}/generated)
  target_link_libraries(${target} PUBLIC ${ARG_DEPENDS})
  if(STATESINK_TESTS AND tests)
    add_executable(${ARG_NAME}_unit_tests ${tests})
    target_link_libraries(${ARG_NAME}_unit_tests PRIVATE ${target} GTest::gtest_main GTest::gmock)
    gtest_discover_tests(${ARG_NAME}_unit_tests
      TEST_PREFIX "unit.${ARG_NAME}."
      PROPERTIES LABELS unit
      DISCOVERY_TIMEOUT 30)
  endif()
endfunction()
