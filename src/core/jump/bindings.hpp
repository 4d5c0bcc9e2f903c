// jump/bindings.hpp: registers the jump functions on framescope._core.
#pragma once

#include "compat/bytecode.hpp"

#include <nanobind/nanobind.h>

namespace fs::jump {

void register_bindings(nanobind::module_& m);

}  // namespace fs::jump
