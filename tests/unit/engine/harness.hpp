// One engine on the home router topology and a ruleset text, fed raw-IP
// frames (frames.hpp) one at a time, for the engine's tests. `Observer`
// keeps what a test looks at of each verdict record in `recs`.
#pragma once

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "fwsim/decode/decoder.hpp"
#include "fwsim/engine/engine.hpp"
#include "io/load/ruleset_loader.hpp"

namespace fwsim::test {

template <class Observer>
struct EngineHarness {
    // prepared: Engine::prepare() before each packet, as the replay does
    // (else process() works it out itself).
    explicit EngineHarness(const char* rules, bool prepared = false)
        : prep(prepared), topo(Topology::home_router()), rs(load_ruleset_text("test.nft", rules, topo.names())),
          engine(cfg, topo, rs, obs) {}
    // The packet's record; packets are 1 ms apart.
    const auto& send(const std::vector<uint8_t>& frame) {
        Packet p;
        p.index = ++index;
        p.ts = Nanos(index) * 1000000;
        p.wire_len = p.cap_len = uint32_t(frame.size());
        decode_frame(dlt::raw, frame, p);
        BOOST_REQUIRE(p.ok());
        if (prep) engine.prepare(p);
        engine.process(p);
        BOOST_REQUIRE_EQUAL(obs.recs.size(), index);
        return obs.recs.back();
    }
    uint32_t line_of(uint32_t rule) const { return rs.rule_info(rule).line; }
    uint16_t iface(const char* name) const {
        const uint16_t i = topo.find(name);
        if (i == kNoIf) BOOST_FAIL("no interface " << name);
        return i;
    }

    bool prep;
    Config cfg;
    Topology topo;
    rules::Ruleset rs;
    Observer obs;
    Engine engine;
    uint64_t index = 0;
};

}  // namespace fwsim::test
