// objects.cpp: the contents of the builtin objects the reader looks into (str, bytes, tuple,
// dict, a type's name), each checked to be of the type it should be.
#include "decoder.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace fs::remote {

std::u32string Decoder::text(uint64_t str, size_t max_chars, bool* cut) {
    if (type_of(str) != t_.types.str_type) {
        throw InvalidMemory("expected a str at " + hex_address(str));
    }
    int64_t length = at<int64_t>(str, l_.str_length);
    uint32_t state = at<uint32_t>(str, l_.str_state);
    if (length < 0 || length > (int64_t{1} << 40) || l_.str_kind_mask <= 0) {
        throw InvalidMemory("implausible str");
    }
    auto mask = static_cast<uint32_t>(l_.str_kind_mask);
    uint32_t kind = (state & mask) >> std::countr_zero(mask);
    bool compact = (state & static_cast<uint32_t>(l_.str_compact_mask)) != 0;
    bool ascii = (state & static_cast<uint32_t>(l_.str_ascii_mask)) != 0;
    if (kind != 1 && kind != 2 && kind != 4) {
        throw InvalidMemory("implausible str kind");
    }
    uint64_t data;
    if (!compact) {  // a legacy string (none are made since 3.12, PEP 623): data.any follows
        data = ptr(str, l_.str_compact_size);
    } else {
        data = str + static_cast<uint64_t>(ascii ? l_.str_ascii_size : l_.str_compact_size);
    }
    size_t n = std::min(static_cast<size_t>(length), max_chars);
    *cut = static_cast<size_t>(length) > max_chars;
    std::string buf(n * kind, '\0');
    raw(data, buf.data(), buf.size());
    std::u32string out(n, U'\0');
    for (size_t i = 0; i < n; ++i) {
        if (kind == 1) {
            out[i] = static_cast<unsigned char>(buf[i]);
        } else if (kind == 2) {
            uint16_t c;
            std::memcpy(&c, buf.data() + 2 * i, 2);
            out[i] = c;
        } else {
            uint32_t c;
            std::memcpy(&c, buf.data() + 4 * i, 4);
            if (c > 0x10FFFF) {
                throw InvalidMemory("implausible character");
            }
            out[i] = c;
        }
    }
    return out;
}

std::string Decoder::bytes(uint64_t obj, size_t max_bytes, bool* cut) {
    if (type_of(obj) != t_.types.bytes_type) {
        throw InvalidMemory("expected bytes at " + hex_address(obj));
    }
    int64_t size = size_of(obj, int64_t{1} << 40);
    size_t n = std::min(static_cast<size_t>(size), max_bytes);
    *cut = static_cast<size_t>(size) > max_bytes;
    std::string out(n, '\0');
    raw(obj + static_cast<uint64_t>(l_.bytes_data), out.data(), n);
    return out;
}

std::string Decoder::type_name(uint64_t type) {
    uint64_t name = ptr(type, l_.type_name);
    std::string out;
    char chunk[64];
    while (out.size() < 200) {
        // Read up to the end of the page at most: the name may end just before unmapped memory.
        uint64_t room = PageCache::page_size - (name + out.size()) % PageCache::page_size;
        size_t take = static_cast<size_t>(std::min<uint64_t>(sizeof chunk, room));
        raw(name + out.size(), chunk, take);
        const void* nul = std::memchr(chunk, '\0', take);
        size_t n = nul != nullptr ? static_cast<size_t>(static_cast<const char*>(nul) - chunk) : take;
        for (size_t i = 0; i < n; ++i) {
            auto c = static_cast<unsigned char>(chunk[i]);
            out += c < 0x20 || c == 0x7F ? '?' : chunk[i];  // one line, whatever memory holds
        }
        if (nul != nullptr) {
            return out;
        }
    }
    return out;
}

std::vector<uint64_t> Decoder::tuple_items(uint64_t tuple, size_t limit) {
    if (type_of(tuple) != t_.types.tuple_type) {
        throw InvalidMemory("expected a tuple at " + hex_address(tuple));
    }
    size_t n = static_cast<size_t>(size_of(tuple, int64_t{1} << 32));
    n = std::min(n, limit);
    std::vector<uint64_t> items(n);
    if (n != 0) {
        raw(tuple + static_cast<uint64_t>(l_.tuple_items), items.data(), n * sizeof(uint64_t));
    }
    return items;
}

std::vector<std::pair<uint64_t, uint64_t>> Decoder::dict_items(uint64_t dict, size_t limit,
                                                               bool* more) {
    // Entries may be long runs of deleted ones: look at this many at most.
    constexpr int64_t scan_limit = 1 << 16;
    if (type_of(dict) != t_.types.dict_type) {
        throw InvalidMemory("expected a dict at " + hex_address(dict));
    }
    uint64_t keys = ptr(dict, l_.dict_keys);
    uint64_t values = ptr(dict, l_.dict_values);
    int64_t nentries = at<int64_t>(keys, l_.keys_nentries);
    uint64_t entries;
    uint64_t entry_size = 24;  // hash, key, value
    uint64_t key_at = 8;
    if (l_.keys_log2()) {
        auto log2_index_bytes = at<uint8_t>(keys, l_.keys_log2_index_bytes);
        auto kind = at<uint8_t>(keys, l_.keys_kind);
        if (log2_index_bytes > 40 || kind > 2) {
            throw InvalidMemory("implausible dict keys");
        }
        entries = keys + static_cast<uint64_t>(l_.keys_indices) + (uint64_t{1} << log2_index_bytes);
        if (kind != 0) {  // DICT_KEYS_UNICODE, DICT_KEYS_SPLIT: entries are key, value
            entry_size = 16;
            key_at = 0;
        }
    } else {
        int64_t size = at<int64_t>(keys, l_.keys_size);
        if (size <= 0 || size > (int64_t{1} << 40)) {
            throw InvalidMemory("implausible dict keys");
        }
        uint64_t index_bytes = size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffff ? 4 : 8;
        entries = keys + static_cast<uint64_t>(l_.keys_indices) +
                  static_cast<uint64_t>(size) * index_bytes;
    }
    if (nentries < 0 || nentries > (int64_t{1} << 40)) {
        throw InvalidMemory("implausible dict size");
    }
    std::vector<std::pair<uint64_t, uint64_t>> out;
    *more = false;
    nentries = std::min<int64_t>(nentries, scan_limit);
    for (int64_t i = 0; i < nentries; ++i) {
        uint64_t entry = entries + static_cast<uint64_t>(i) * entry_size;
        uint64_t key = at<uint64_t>(entry, static_cast<int64_t>(key_at));
        uint64_t value = values != 0
            ? at<uint64_t>(values + static_cast<uint64_t>(l_.values_items), 8 * i)
            : at<uint64_t>(entry, static_cast<int64_t>(key_at + 8));
        if (key == 0 || value == 0) {
            continue;  // deleted
        }
        if (out.size() >= limit) {
            *more = true;
            break;
        }
        out.emplace_back(key, value);
    }
    return out;
}

}  // namespace fs::remote
