// Load-time errors: bad rulesets, topologies, configurations, options and
// captures. They carry where (file:line:col) and, for text files, the line
// itself so that the CLI can show a caret under the column, as nft does.
// The per-packet path never throws: a malformed packet is a value.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace fwsim {

class InputError : public std::runtime_error {
public:
    explicit InputError(const std::string& message) : std::runtime_error(message) {}
    InputError(std::string file, uint32_t line, uint32_t col, const std::string& message,
               std::string source_line = {})
        : std::runtime_error(message),
          file_(std::move(file)),
          line_(line),
          col_(col),
          source_line_(std::move(source_line)) {}

    const std::string& file() const { return file_; }
    uint32_t line() const { return line_; }  // 1-based, 0 = not known
    uint32_t col() const { return col_; }    // 1-based, 0 = not known
    const std::string& source_line() const { return source_line_; }

    // "rules/x.nft:12:5: unknown chain \"web\"" plus, when the source line is
    // known, that line and a caret under the column.
    std::string render() const;

private:
    std::string file_;
    uint32_t line_ = 0, col_ = 0;
    std::string source_line_;
};

}  // namespace fwsim
