#include "fwsim/verdict.hpp"

namespace fwsim {

std::string_view to_string(Verdict v) {
    switch (v) {
        case Verdict::accept: return "accept";
        case Verdict::drop: return "drop";
        case Verdict::reject: return "reject";
        case Verdict::ignored: return "ignored";
    }
    return "?";
}

std::string_view to_string(Reason r) {
    switch (r) {
        case Reason::none: return "";
        case Reason::policy: return "policy";
        case Reason::invalid: return "invalid";
        case Reason::malformed: return "malformed";
        case Reason::table_full: return "table_full";
        case Reason::not_ip: return "not_ip";
        case Reason::unsupported_linktype: return "unsupported_linktype";
        case Reason::nat_port_exhausted: return "nat_port_exhausted";
        case Reason::insert_failed: return "insert_failed";
        case Reason::fragment_incomplete: return "fragment_incomplete";
        case Reason::no_route: return "no_route";
        case Reason::ttl_exceeded: return "ttl_exceeded";
    }
    return "?";
}

std::string_view to_string(Hook h) {
    switch (h) {
        case Hook::prerouting: return "prerouting";
        case Hook::input: return "input";
        case Hook::forward: return "forward";
        case Hook::output: return "output";
        case Hook::postrouting: return "postrouting";
    }
    return "?";
}

std::string_view to_string(CtState s) {
    switch (s) {
        case CtState::new_: return "new";
        case CtState::established: return "established";
        case CtState::related: return "related";
        case CtState::invalid: return "invalid";
        case CtState::untracked: return "untracked";
    }
    return "?";
}

std::string_view to_string(CtDir d) { return d == CtDir::original ? "original" : "reply"; }

std::string_view to_string(TcpState s) {
    switch (s) {
        case TcpState::none: return "none";
        case TcpState::syn_sent: return "syn_sent";
        case TcpState::syn_recv: return "syn_recv";
        case TcpState::established: return "established";
        case TcpState::fin_wait: return "fin_wait";
        case TcpState::close_wait: return "close_wait";
        case TcpState::last_ack: return "last_ack";
        case TcpState::time_wait: return "time_wait";
        case TcpState::close: return "close";
        case TcpState::syn_sent2: return "syn_sent2";
    }
    return "?";
}

}  // namespace fwsim
