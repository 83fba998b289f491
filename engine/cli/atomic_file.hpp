// Writing an output file (reports) all or nothing: the text goes to a temporary file beside it,
// renamed over the target only once complete, so an interrupted command leaves no partial file.
#pragma once
#include <string>
#include <string_view>

namespace crm::cli {

// Checks early that `path`'s folder takes a new file (before a long computation). Returns false
// with `error` set to the reason ("No such file or directory") when it does not.
bool can_write_beside(const std::string& path, std::string& error);

// Writes `content` to "<path>.tmp-<pid>" and renames it to `path`. Returns false with `error`
// set to the reason (and no temporary file left) on failure.
bool write_file_atomically(const std::string& path, std::string_view content, std::string& error);

}  // namespace crm::cli
