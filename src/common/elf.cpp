// common/elf.cpp: libelf does the parsing; this file only walks what it returns.
#include "elf.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <gelf.h>
#include <libelf.h>
#include <cstring>
#include <set>
#include <string_view>

namespace fs {

namespace {

// An open ELF file: the descriptor and libelf's handle, which reads through it. Both are
// released together, the handle first.
class ElfFile {
public:
    explicit ElfFile(const std::string& path) noexcept
        : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)),
          elf_(fd_ >= 0 ? elf_begin(fd_, ELF_C_READ_MMAP, nullptr) : nullptr) {}
    ~ElfFile() {
        if (elf_ != nullptr) {
            elf_end(elf_);
        }
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    ElfFile(const ElfFile&) = delete;
    ElfFile& operator=(const ElfFile&) = delete;
    Elf* get() const noexcept { return elf_; }

private:
    int fd_;     // declared first: opened before the handle is made
    Elf* elf_;
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

// The NT_STAPSDT notes of one note section: each describes a probe by three addresses (the probe
// site, the .stapsdt.base the file was linked with, the semaphore) in the file's word size,
// followed by the provider, name and argument strings. A file moved by prelink has a
// .stapsdt.base elsewhere than its notes say; the semaphore moved with it.
void scan_probes(Elf* elf, Elf_Scn* scn, std::optional<uint64_t> stapsdt_base, ElfInfo& info) {
    constexpr uint32_t kStapsdtNote = 3;  // NT_STAPSDT
    const size_t word = gelf_getclass(elf) == ELFCLASS32 ? 4 : 8;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr || data->d_buf == nullptr) {
        return;
    }
    const auto* bytes = static_cast<const unsigned char*>(data->d_buf);
    GElf_Nhdr note;
    size_t name_at = 0;
    size_t desc_at = 0;
    for (size_t at = 0; (at = gelf_getnote(data, at, &note, &name_at, &desc_at)) != 0;) {
        if (note.n_type != kStapsdtNote || note.n_namesz != sizeof "stapsdt" ||
            std::string_view(reinterpret_cast<const char*>(bytes + name_at), 7) != "stapsdt" ||
            note.n_descsz <= 3 * word) {
            continue;
        }
        const unsigned char* desc = bytes + desc_at;
        auto address = [&](size_t i) {
            uint64_t v = 0;
            if (word == 4) {
                uint32_t v32 = 0;
                std::memcpy(&v32, desc + i * word, 4);
                v = v32;
            } else {
                std::memcpy(&v, desc + i * word, 8);
            }
            return v;
        };
        uint64_t semaphore = address(2);
        if (semaphore == 0) {
            continue;
        }
        if (stapsdt_base) {
            semaphore += *stapsdt_base - address(1);
        }
        // The strings: provider, then name, each NUL-terminated inside the descriptor.
        std::string_view rest(reinterpret_cast<const char*>(desc + 3 * word),
                              note.n_descsz - 3 * word);
        size_t provider_end = rest.find('\0');
        if (provider_end == std::string_view::npos) {
            continue;
        }
        size_t name_end = rest.find('\0', provider_end + 1);
        if (name_end == std::string_view::npos) {
            continue;
        }
        std::string key(rest.substr(0, provider_end));
        key += ':';
        key += rest.substr(provider_end + 1, name_end - provider_end - 1);
        info.probe_semaphores.emplace(std::move(key), semaphore);
    }
}

}  // namespace

std::optional<ElfInfo> read_elf(const std::string& path, const std::vector<std::string>& names) {
    static const bool initialised = elf_version(EV_CURRENT) != EV_NONE;
    if (!initialised) {
        return std::nullopt;
    }
    ElfFile elf(path);
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
    Elf_Scn* probes = nullptr;
    std::optional<uint64_t> stapsdt_base;
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
            std::string_view section = name != nullptr ? name : "";
            if (section == ".PyRuntime") {
                info.pyruntime_section = shdr.sh_addr;
            } else if (section == ".stapsdt.base") {
                stapsdt_base = shdr.sh_addr;
            } else if (section == ".note.stapsdt" && shdr.sh_type == SHT_NOTE) {
                probes = scn;
            }
        }
    }
    // The full symbol table is much larger: only read it for what .dynsym did not have.
    if (!wanted.empty() && symtab != nullptr) {
        scan_symbols(elf.get(), symtab, symtab_hdr, wanted, info);
    }
    if (probes != nullptr) {
        scan_probes(elf.get(), probes, stapsdt_base, info);
    }
    return info;
}

}  // namespace fs
