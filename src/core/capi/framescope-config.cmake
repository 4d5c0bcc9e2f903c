# framescope's CMake package, installed with the Python package (framescope/cmake/).
#
#   find_package(framescope CONFIG REQUIRED)   # -Dframescope_DIR=$(python -m framescope --cmake-dir)
#   target_link_libraries(myext PRIVATE framescope::headers)
#
# framescope::headers is an interface target with framescope.h's folder as its include
# directory. The C API is loaded at run time from the framescope module (framescope_import()),
# so there is nothing to link; the extension still needs CPython's headers, as any extension.
get_filename_component(framescope_INCLUDE_DIR "${CMAKE_CURRENT_LIST_DIR}/../include" ABSOLUTE)
if(NOT EXISTS "${framescope_INCLUDE_DIR}/framescope.h")
    set(framescope_FOUND FALSE)
    set(framescope_NOT_FOUND_MESSAGE "framescope.h is missing from ${framescope_INCLUDE_DIR}")
    return()
endif()
if(NOT TARGET framescope::headers)
    add_library(framescope::headers INTERFACE IMPORTED)
    set_target_properties(framescope::headers PROPERTIES
        INTERFACE_INCLUDE_DIRECTORIES "${framescope_INCLUDE_DIR}")
endif()
