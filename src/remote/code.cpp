// code.cpp: reading a code object: names, first line, flags, line table, local names.
#include "decoder.hpp"

namespace fs::remote {

const CodeInfo& Decoder::code_info(uint64_t code) {
    auto found = codes_.find(code);
    if (found != codes_.end()) {
        return found->second;
    }
    CodeInfo info;
    info.filename = name(ptr(code, l_.code_filename));
    info.function = name(ptr(code, l_.code_qualname >= 0 ? l_.code_qualname : l_.code_name));
    info.firstlineno = at<int32_t>(code, l_.code_firstlineno);
    info.flags = at<uint32_t>(code, l_.code_flags);
    bool cut = false;
    info.linetable = bytes(ptr(code, l_.code_linetable), Limits::table_bytes, &cut);
    if (!l_.frame_is_object()) {
        info.firsttraceable = at<int32_t>(code, l_.code_firsttraceable);
        info.code_units = size_of(code, int64_t{1} << 32);
    }
    return codes_.emplace(code, std::move(info)).first->second;
}

void Decoder::load_local_names(uint64_t code, CodeInfo& info) {
    if (info.have_locals) {
        return;
    }
    info.have_locals = true;
    auto names_of = [&](uint64_t tuple) {
        for (uint64_t item : tuple_items(tuple, Limits::locals)) {
            info.local_names.push_back(name(item));
        }
    };
    if (l_.localsplus_kinds()) {
        names_of(ptr(code, l_.code_localsplusnames));
        bool cut = false;
        info.local_kinds = bytes(ptr(code, l_.code_localspluskinds), Limits::locals, &cut);
    } else {
        names_of(ptr(code, l_.code_varnames));
        info.nlocals = info.local_names.size();
        names_of(ptr(code, l_.code_cellvars));
        info.ncells = info.local_names.size() - info.nlocals;
        names_of(ptr(code, l_.code_freevars));
    }
}

}  // namespace fs::remote
