#define BOOST_TEST_MODULE cli
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "io/output/sha256.hpp"

using namespace fwsim;

namespace {
std::string digest(std::string_view s) {
    Sha256 h;
    h.update({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
    return Sha256::hex(h.final());
}
}  // namespace

BOOST_AUTO_TEST_CASE(sha256_matches_the_fips_180_test_vectors_on_both_paths) {
    const bool hw = Sha256::hardware;
    for (bool use_hw : {false, hw}) {
        Sha256::hardware = use_hw;
        BOOST_TEST(digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        BOOST_TEST(digest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        BOOST_TEST(digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
                   "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    }
    Sha256::hardware = hw;
}

BOOST_AUTO_TEST_CASE(sha256_hardware_and_portable_agree_on_any_split_of_the_input) {
    std::vector<uint8_t> data(10007);
    uint32_t x = 12345;
    for (auto& b : data) b = uint8_t((x = x * 1103515245 + 12345) >> 16);
    const bool hw = Sha256::hardware;
    std::string ref;
    for (bool use_hw : {false, hw}) {
        Sha256::hardware = use_hw;
        for (size_t split : {size_t(0), size_t(1), size_t(63), size_t(64), size_t(65), size_t(5000)}) {
            Sha256 h;
            h.update({data.data(), split});
            h.update({data.data() + split, data.size() - split});
            const std::string d = Sha256::hex(h.final());
            if (ref.empty()) ref = d;
            BOOST_TEST(d == ref);
        }
    }
    Sha256::hardware = hw;
}
