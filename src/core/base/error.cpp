#include "fwsim/error.hpp"

namespace fwsim {

std::string InputError::render() const {
    std::string s;
    if (!file_.empty()) {
        s += file_;
        if (line_) {
            s += ':' + std::to_string(line_);
            if (col_) s += ':' + std::to_string(col_);
        }
        s += ": ";
    }
    s += what();
    if (!source_line_.empty()) {
        s += '\n';
        s += source_line_;
        s += '\n';
        // Keep tabs so the caret lines up under the column in a terminal.
        for (uint32_t i = 1; i < col_ && i <= source_line_.size(); ++i)
            s += source_line_[i - 1] == '\t' ? '\t' : ' ';
        s += '^';
    }
    return s;
}

}  // namespace fwsim
