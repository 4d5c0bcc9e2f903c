// elf.cpp: libelf does the parsing; this file only walks what it returns.
#include "elf.hpp"

#include "memory.hpp"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <set>
#include <string_view>

namespace fs::remote {

namespace {

// An Elf handle, ended with elf_end().
class ElfHandle {
public:
    explicit ElfHandle(Elf* e) noexcept : e_(e) {}
    ~ElfHandle() {
        if (e_ != nullptr) {
            elf_end(e_);
        }
    }
    ElfHandle(const ElfHandle&) = delete;
    ElfHandle& operator=(const ElfHandle&) = delete;
    Elf* get() const noexcept { return e_; }

private:
    Elf* e_;
};

void scan_symbols(Elf* elf, Elf_Scn* scn, const GElf_Shdr& shdr,
                  std::set<std::string_view>& wanted, ElfInfo& info) {
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr || shdr.sh_entsize == 0) {
        return;
    }
    size_t count = shdr.sh_size / shdr.sh_entsize;
    for (size_t i = 0; i < count && !wanted.empty(); ++i) {
        GElf_Sym sym;
        if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr || sym.st_value == 0 ||
            sym.st_shndx == SHN_UNDEF) {
            continue;
        }
        const char* name = elf_strptr(elf, shdr.sh_link, sym.st_name);
        if (name == nullptr) {
            continue;
        }
        auto it = wanted.find(std::string_view(name));
        if (it != wanted.end()) {
            info.symbols.emplace(std::string(*it), sym.st_value);
            wanted.erase(it);
        }
    }
}

}  // namespace

std::optional<ElfInfo> read_elf(const std::string& path, const std::vector<std::string>& names) {
    static const bool initialised = elf_version(EV_CURRENT) != EV_NONE;
    if (!initialised) {
        return std::nullopt;
    }
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        return std::nullopt;
    }
    ElfHandle elf(elf_begin(fd.get(), ELF_C_READ_MMAP, nullptr));
    if (elf.get() == nullptr || elf_kind(elf.get()) != ELF_K_ELF) {
        return std::nullopt;
    }
    ElfInfo info;
    size_t phnum = 0;
    if (elf_getphdrnum(elf.get(), &phnum) == 0) {
        for (size_t i = 0; i < phnum; ++i) {
            GElf_Phdr phdr;
            if (gelf_getphdr(elf.get(), static_cast<int>(i), &phdr) != nullptr &&
                phdr.p_type == PT_LOAD) {
                info.first_load_vaddr = phdr.p_vaddr;
                break;
            }
        }
    }
    size_t shstrndx = 0;
    bool have_names = elf_getshdrstrndx(elf.get(), &shstrndx) == 0;
    std::set<std::string_view> wanted(names.begin(), names.end());
    Elf_Scn* symtab = nullptr;
    GElf_Shdr symtab_hdr{};
    for (Elf_Scn* scn = elf_nextscn(elf.get(), nullptr); scn != nullptr;
         scn = elf_nextscn(elf.get(), scn)) {
        GElf_Shdr shdr;
        if (gelf_getshdr(scn, &shdr) == nullptr) {
            continue;
        }
        if (shdr.sh_type == SHT_DYNSYM) {
            scan_symbols(elf.get(), scn, shdr, wanted, info);
        } else if (shdr.sh_type == SHT_SYMTAB) {
            symtab = scn;
            symtab_hdr = shdr;
        }
        if (have_names) {
            const char* name = elf_strptr(elf.get(), shstrndx, shdr.sh_name);
            if (name != nullptr && std::string_view(name) == ".PyRuntime") {
                info.pyruntime_section = shdr.sh_addr;
            }
        }
    }
    // The full symbol table is much larger: only read it for what .dynsym did not have.
    if (!wanted.empty() && symtab != nullptr) {
        scan_symbols(elf.get(), symtab, symtab_hdr, wanted, info);
    }
    return info;
}

}  // namespace fs::remote
