#include "io/output/sinks.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "fwsim/nat/nat.hpp"
#include "io/output/json_line.hpp"
#include "io/pcap/pcap_writer.hpp"

namespace fwsim {

namespace {


// tcpdump's flag letters, in its order: F S R P . U E W
std::string_view tcp_flags_text(uint8_t f, char (&buf)[8]) {
    size_t n = 0;
    if (f & tcpflag::fin) buf[n++] = 'F';
    if (f & tcpflag::syn) buf[n++] = 'S';
    if (f & tcpflag::rst) buf[n++] = 'R';
    if (f & tcpflag::psh) buf[n++] = 'P';
    if (f & tcpflag::ack) buf[n++] = '.';
    if (f & tcpflag::urg) buf[n++] = 'U';
    if (f & tcpflag::ece) buf[n++] = 'E';
    if (f & tcpflag::cwr) buf[n++] = 'W';
    return {buf, n};
}

// The enum values of the records rendered once with their quotes, so that
// writing one is a fixed-size copy rather than a call to to_string() and a
// copy of unknown length (about a tenth of a verdict record's instructions).
struct RecordText {
    std::array<json::Quoted, 256> proto;
    std::array<json::Quoted, kHookCount> hook;
    std::array<json::Quoted, 2> dir;
    std::array<json::Quoted, 5> ct_state;
    std::array<json::Quoted, 10> tcp_state;
    std::array<json::Quoted, 4> verdict;
    json::Quoted ipv4{"ipv4"}, ipv6{"ipv6"};

    RecordText() {
        for (size_t i = 0; i < proto.size(); ++i) proto[i] = json::Quoted(proto_name(uint8_t(i)));
        fill<Hook>(hook);
        fill<CtDir>(dir);
        fill<CtState>(ct_state);
        fill<TcpState>(tcp_state);
        fill<Verdict>(verdict);
    }
    template <class E, size_t N>
    static void fill(std::array<json::Quoted, N>& t) {
        for (size_t i = 0; i < N; ++i) t[i] = json::Quoted(to_string(E(i)));
    }
};

const RecordText& record_text() {
    static const RecordText t;
    return t;
}

// table[e] when e is in it, else to_string(e) (a value added to the enum later).
template <json::Key K, class E, size_t N>
void enum_field(JsonLine& j, const std::array<json::Quoted, N>& table, E e) {
    if (size_t(e) < N) j.quoted<K>(table[size_t(e)]);
    else j.raw_str<K>(to_string(e));
}

template <json::Key K>
void tuple_json(JsonLine& j, const Tuple& t) {
    j.object<K>();
    j.addr<"src">(t.family, t.src);
    if (proto::has_ports(t.proto)) j.num<"sport">(t.sport);
    j.addr<"dst">(t.family, t.dst);
    if (proto::has_ports(t.proto)) j.num<"dport">(t.dport);
    if (t.proto == proto::icmp || t.proto == proto::icmpv6) {
        j.num<"type">(t.dport >> 8).num<"code">(t.dport & 0xff).num<"id">(t.sport);
    }
    j.end();
}

// "0x86dd": the ethertype of a packet that is not IP.
std::string_view hex16(uint16_t v, char (&b)[6]) {
    static constexpr char hex[] = "0123456789abcdef";
    b[0] = '0';
    b[1] = 'x';
    for (int i = 0; i < 4; ++i) b[2 + i] = hex[(v >> (12 - 4 * i)) & 15];
    return {b, 6};
}

}  // namespace

Outputs::Outputs(const OutputOptions& opt, const Config& cfg, const rules::Ruleset& rules, const Topology& topo)
    : opt_(opt), cfg_(cfg), rules_(rules), topo_(topo) {
    if (!opt.verdicts.empty()) verdicts_.open(opt.verdicts);
    if (!opt.flows.empty()) flows_.open(opt.flows);
    if (!opt.stats.empty()) stats_.open(opt.stats);
    if (!opt.summary.empty()) summary_.open(opt.summary);
    if (!opt.verdicts_filter.empty()) verdicts_filter_ = RecordFilter("--verdicts-filter", opt.verdicts_filter);
    if (!opt.write_filter.empty()) write_filter_ = RecordFilter("--write-filter", opt.write_filter);
    if (!opt.write_pcap.empty())
        pcap_ = std::make_unique<PcapWriter>(opt.write_pcap, opt.linktype, opt.ts_digits);
    rule_json_.resize(rules.rule_count());
    flow_rule_json_.resize(rules.rule_count());
    for (uint32_t i = 0; i < rules.rule_count(); ++i) {
        const auto& ri = rules.rule_info(i);
        {
            JsonLine j(flow_rule_json_[i]);
            j.begin().str<"file">(ri.file).num<"line">(ri.line).end();
        }
        JsonLine j(rule_json_[i]);
        j.begin().str<"file">(ri.file).num<"line">(ri.line).str<"table">(ri.table).str<"chain">(ri.chain).end();
    }
    for (const auto& n : topo.names()) {
        std::string s;
        append_json_string(s, n);
        iface_json_.push_back(s);
    }
}

Outputs::~Outputs() = default;

void Outputs::on_packet(const PacketRecord& r) {
    // Without verdicts and pcap output only these counts read the record:
    // RecordPipe (Copy::record) carries just verdict, reason, has_ct,
    // ct_state, rule and chain across to them.
    ++totals_.packets;
    switch (r.verdict) {
        case Verdict::accept: ++totals_.accepted; break;
        case Verdict::drop: ++totals_.dropped; break;
        case Verdict::reject: ++totals_.rejected; break;
        case Verdict::ignored: ++totals_.ignored; break;
    }
    if (r.reason == Reason::malformed) ++totals_.malformed;
    if (r.has_ct && r.ct_state == CtState::invalid) ++totals_.invalid;
    if (r.reason != Reason::none) ++totals_.by_reason[r.reason];
    if (r.verdict == Verdict::drop || r.verdict == Verdict::reject) {
        if (r.rule != rules::kNoRule) ++drops_by_rule_[r.rule];
        else if (r.reason == Reason::policy && r.chain != rules::kNoRule) ++drops_by_policy_[r.chain];
    }
    if (verdicts_.is_open() && verdicts_filter_.keep(r)) write_verdict(r);
    if (pcap_ && write_filter_.keep(r)) write_pcap(r);
}

void Outputs::write_verdict(const PacketRecord& r) {
    const Packet& p = *r.pkt;
    const RecordText& text = record_text();
    std::string& out = verdicts_.buf();
    JsonLine j(out);
    j.begin().num<"index">(p.index).ts<"ts">(p.ts, opt_.ts_digits).num<"len">(p.wire_len);
    if (r.iif < iface_json_.size()) j.raw<"iif">(iface_json_[r.iif]);
    if (r.oif < iface_json_.size()) j.raw<"oif">(iface_json_[r.oif]);
    if (r.has_hook) enum_field<"hook">(j, text.hook, r.hook);
    if (p.status == DecodeStatus::not_ip) {
        char hb[6];
        j.raw_str<"ethertype">(hex16(p.ethertype, hb));
    }
    if (p.family != Family::none) {
        j.quoted<"l3">(p.family == Family::ipv6 ? text.ipv6 : text.ipv4);
        if (p.ok() || p.l4proto) j.quoted<"proto">(text.proto[p.l4proto]);
        j.addr<"src">(p.family, p.src);
        if (p.has_l4 && proto::has_ports(p.l4proto)) j.num<"sport">(p.sport);
        j.addr<"dst">(p.family, p.dst);
        if (p.has_l4 && proto::has_ports(p.l4proto)) j.num<"dport">(p.dport);
        if (p.has_l4 && p.l4proto == proto::tcp) {
            char fb[8];
            j.raw_str<"tcp_flags">(tcp_flags_text(p.tcp.flags, fb));
        }
        if (p.has_l4 && p.is_icmp()) {
            j.num<"icmp_type">(p.icmp_type).num<"icmp_code">(p.icmp_code);
            const bool echo = p.l4proto == proto::icmp ? (p.icmp_type == 0 || p.icmp_type == 8)
                                                       : (p.icmp_type == 128 || p.icmp_type == 129);
            if (echo) j.num<"icmp_id">(p.icmp_id);
        }
        if (p.is_fragment) {
            j.object<"frag">().num<"id">(p.frag_id).num<"offset">(p.frag_offset).boolean<"more">(p.more_frags).end();
            if (r.datagram) j.num<"datagram">(r.datagram);
        }
    }
    if (r.has_ct) {
        j.object<"ct">();
        if (r.ct_id) j.num<"id">(r.ct_id);
        enum_field<"dir">(j, text.dir, r.ct_dir);
        enum_field<"state">(j, text.ct_state, r.ct_state);
        if (r.has_tcp_state) enum_field<"tcp_state">(j, text.tcp_state, r.tcp_state);
        j.end();
    }
    enum_field<"verdict">(j, text.verdict, r.verdict);
    if (r.reason != Reason::none) j.raw_str<"reason">(to_string(r.reason));
    if (!r.error.empty()) j.str<"error">(r.error);
    if (r.rule != rules::kNoRule && r.rule < rule_json_.size()) j.raw<"rule">(rule_json_[r.rule]);
    else if (r.reason == Reason::policy && r.chain != rules::kNoRule) j.str<"chain">(rules_.chain_label(r.chain));
    if (r.nat.any()) {
        j.object<"nat">();
        const Family f = p.family;
        if (r.nat.src) j.addr<"src">(f, r.nat.new_src);
        if (r.nat.sport) {
            if (p.is_icmp()) j.num<"icmp_id">(r.nat.new_sport);
            else j.num<"sport">(r.nat.new_sport);
        }
        if (r.nat.dst) j.addr<"dst">(f, r.nat.new_dst);
        if (r.nat.dport) j.num<"dport">(r.nat.new_dport);
        if (r.nat.inner) tuple_json<"inner">(j, r.nat.inner_to);
        j.end();
    }
    if (r.log_count)
        j.str_array<"log">(r.logs, r.logs + r.log_count, [this](uint32_t id) { return rules_.log_prefix(id); });
    j.end().newline().flush();
    verdicts_.maybe_flush();
}

// The packet as it leaves the firewall: NAT applied, checksums fixed, TTL
// decremented when forwarded. Dropped packets are written as they arrived.
void Outputs::write_pcap(const PacketRecord& r) {
    const Packet& p = *r.pkt;
    const bool forwarded = r.verdict == Verdict::accept && r.has_hook && r.hook == Hook::forward;
    const bool rewrite = p.ok() && r.verdict == Verdict::accept && (forwarded || r.nat.any()) && !p.is_fragment;
    if (!rewrite) {
        pcap_->write(p.ts, p.frame, p.wire_len);
        return;
    }
    scratch_.assign(p.frame.begin(), p.frame.end());
    Tuple from;
    tuple_of(p, &from);
    Tuple to = from;
    if (r.nat.src) to.src = r.nat.new_src;
    if (r.nat.dst) to.dst = r.nat.new_dst;
    if (r.nat.sport) to.sport = r.nat.new_sport;
    if (r.nat.dport) to.dport = r.nat.new_dport;
    std::span<uint8_t> ip(scratch_.data() + p.l3_offset, scratch_.size() - p.l3_offset);
    if (r.nat.inner) nat::rewrite_icmp_error(ip, p.family, from, to, r.nat.inner_from, r.nat.inner_to, forwarded);
    else nat::rewrite(ip, p.family, from, to, forwarded);
    pcap_->write(p.ts, scratch_, p.wire_len);
}

void Outputs::on_flow(const FlowRecord& f) {
    if (f.verdict == Verdict::accept) ++totals_.flows_accepted;
    else ++totals_.flows_denied;
    if (!flows_.is_open()) return;
    std::string& out = flows_.buf();
    JsonLine j(out);
    const RecordText& text = record_text();
    j.begin();
    if (f.id) j.num<"id">(f.id);  // a table_full denied flow never had a conntrack id
    j.quoted<"l3">(f.orig.family == Family::ipv6 ? text.ipv6 : text.ipv4).quoted<"proto">(text.proto[f.orig.proto]);
    tuple_json<"orig">(j, f.orig);
    if (f.has_reply) tuple_json<"reply">(j, f.reply);
    j.ts<"first_ts">(f.first_ts, opt_.ts_digits).ts<"last_ts">(f.last_ts, opt_.ts_digits);
    j.num<"orig_pkts">(f.orig_pkts).num<"orig_bytes">(f.orig_bytes);
    j.num<"reply_pkts">(f.reply_pkts).num<"reply_bytes">(f.reply_bytes);
    enum_field<"verdict">(j, text.verdict, f.verdict);
    if (f.reason != Reason::none) j.raw_str<"reason">(to_string(f.reason));
    if (f.has_tcp_state && f.verdict == Verdict::accept) enum_field<"state">(j, text.tcp_state, f.tcp_state);
    j.boolean<"assured">(f.assured);
    if (f.mark) j.num<"mark">(f.mark);
    j.raw_str<"end">(to_string(f.end)).ts<"end_ts">(f.end_ts, opt_.ts_digits);
    if (f.rule != rules::kNoRule && f.rule < flow_rule_json_.size()) j.raw<"rule">(flow_rule_json_[f.rule]);
    j.end().newline().flush();
    flows_.maybe_flush();
}

void Outputs::on_stats(const TableStats& s) {
    if (!stats_.is_open()) return;
    std::string& out = stats_.buf();
    JsonLine j(out);
    j.begin().ts<"ts">(s.ts, opt_.ts_digits).num<"ct_entries">(s.ct_entries).num<"ct_max">(s.ct_max);
    j.object<"ct_by_proto">();
    for (size_t i = 0; i < s.by_proto.size(); ++i)
        if (s.by_proto[i]) j.num(kStatsProtoNames[i], s.by_proto[i]);
    j.end();
    j.object<"ct_by_tcp_state">();
    for (size_t i = 1; i < s.by_tcp_state.size(); ++i)
        if (s.by_tcp_state[i]) j.num(to_string(TcpState(i)), s.by_tcp_state[i]);
    j.end();
    j.num<"new">(s.new_).num<"destroyed">(s.destroyed).num<"expired">(s.expired).num<"early_drop">(s.early_drop);
    j.num<"insert_failed">(s.insert_failed).num<"table_full_drops">(s.table_full_drops);
    j.num<"nat_bindings">(s.nat_bindings).num<"nat_port_exhausted">(s.nat_port_exhausted);
    j.end().newline().flush();
    stats_.maybe_flush();
}

std::string Outputs::summary_json(const RunInfo& info, const rules::RuntimeState& rs) const {
    using J = nlohmann::ordered_json;
    J s;
    s["fwsim_version"] = FWSIM_VERSION;
    s["complete"] = info.error.empty();
    if (!info.error.empty()) s["error"] = info.error;
    s["capture"] = {{"file", info.capture_path}, {"sha256", info.capture_sha256}, {"linktype", info.linktype},
                    {"linktype_supported", info.linktype_supported}};
    s["rules"] = info.rules_label;
    s["topology"] = info.topology_label;
    const Totals& t = totals_;
    s["packets"] = t.packets;
    s["accepted"] = t.accepted;
    s["dropped"] = t.dropped;
    s["rejected"] = t.rejected;
    s["ignored"] = t.ignored;
    s["malformed"] = t.malformed;
    s["invalid"] = t.invalid;
    J reasons = J::object();
    for (const auto& [r, n] : t.by_reason) reasons[std::string(to_string(r))] = n;
    s["reasons"] = reasons;
    s["flows"] = {{"accepted", t.flows_accepted}, {"denied", t.flows_denied}};
    // Timestamps are written as exact decimal numbers, not through a double.
    s["table_peak"] = {{"entries", info.peak.entries}, {"ts", "@TABLE_PEAK_TS@"}};
    J rules = J::array();
    const auto hits = rs.hits();
    for (uint32_t i = 0; i < rules_.rule_count(); ++i) {
        const auto& ri = rules_.rule_info(i);
        J r = {{"file", ri.file}, {"line", ri.line}, {"table", ri.table}, {"chain", ri.chain}, {"rule", ri.text}};
        r["packets"] = i < hits.size() ? hits[i].packets : 0;
        r["bytes"] = i < hits.size() ? hits[i].bytes : 0;
        rules.push_back(r);
    }
    s["rule_hits"] = rules;
    J cfg = J::object();
    for (const auto& k : config_keys()) {
        const std::string v = get_config(cfg_, k);
        cfg[std::string(k.key)] = k.is_double ? J(std::stod(v)) : J(std::stoull(v));
    }
    s["config"] = cfg;
    std::string text = s.dump();
    std::string peak_ts;
    append_ts(peak_ts, info.peak.ts, opt_.ts_digits);
    const std::string mark = "\"@TABLE_PEAK_TS@\"";
    text.replace(text.find(mark), mark.size(), peak_ts);
    return text + "\n";
}

std::string Outputs::human_summary(const RunInfo& info) const {
    const Totals& t = totals_;
    std::string s;
    char line[256];
    auto add = [&](const char* fmt, auto... a) {
        std::snprintf(line, sizeof line, fmt, a...);
        s += line;
    };
    add("fwsim replay: %s\n", info.capture_path.c_str());
    if (!info.linktype_supported)
        add("  link type %d is not supported: every packet is ignored (unsupported_linktype)\n", info.linktype);
    add("  rules:     %s\n", info.rules_label.c_str());
    add("  packets    %10llu\n", (unsigned long long)t.packets);
    add("  accepted   %10llu\n", (unsigned long long)t.accepted);
    std::string why;
    for (const auto& [r, n] : t.by_reason) {
        if (r == Reason::not_ip || r == Reason::unsupported_linktype) continue;
        if (!why.empty()) why += ", ";
        why += std::string(to_string(r)) + " " + std::to_string(n);
    }
    add("  dropped    %10llu%s%s%s\n", (unsigned long long)t.dropped, why.empty() ? "" : "  (", why.c_str(),
        why.empty() ? "" : ")");
    add("  rejected   %10llu\n", (unsigned long long)t.rejected);
    add("  ignored    %10llu  (not IP or unsupported link type)\n", (unsigned long long)t.ignored);
    add("  invalid    %10llu  (ct state invalid)\n", (unsigned long long)t.invalid);
    add("  flows      %10llu accepted, %llu denied\n", (unsigned long long)t.flows_accepted,
        (unsigned long long)t.flows_denied);
    std::string ts;
    append_ts(ts, info.peak.ts, opt_.ts_digits);
    add("  table peak %10llu entries at %s\n", (unsigned long long)info.peak.entries, ts.c_str());
    // Top dropping rules and policies, most packets first, then by position.
    std::vector<std::pair<uint64_t, std::string>> top;
    for (const auto& [rule, n] : drops_by_rule_) {
        const auto& ri = rules_.rule_info(rule);
        top.emplace_back(n, ri.file + ":" + std::to_string(ri.line) + "  " + ri.text);
    }
    for (const auto& [chain, n] : drops_by_policy_) top.emplace_back(n, "policy of " + rules_.chain_label(chain));
    std::stable_sort(top.begin(), top.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    if (!top.empty()) s += "top dropping rules:\n";
    for (size_t i = 0; i < top.size() && i < 5; ++i)
        add("  %10llu  %s\n", (unsigned long long)top[i].first, top[i].second.c_str());
    if (!info.error.empty()) s += "capture broke off: " + info.error + "\n";
    return s;
}

void Outputs::commit(const RunInfo& info, const rules::RuntimeState& rs) {
    if (summary_.is_open()) summary_.write(summary_json(info, rs));
    verdicts_.commit();
    flows_.commit();
    stats_.commit();
    summary_.commit();
    if (pcap_) pcap_->commit();
}

void Outputs::discard() {
    verdicts_.discard();
    flows_.discard();
    stats_.discard();
    summary_.discard();
    pcap_.reset();  // an uncommitted PcapWriter removes its temporary file
}

void Outputs::abort() {
    verdicts_.abort();
    flows_.abort();
    stats_.abort();
    summary_.abort();
    pcap_.reset();
}

}  // namespace fwsim
