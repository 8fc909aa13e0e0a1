// Every example ruleset and every good corpus file loads; every bad corpus
// file is rejected with the line, column and message its first line names:
//   # error: LINE:COL: text-fragment
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "helpers.hpp"
#include "io/load/ruleset_loader.hpp"

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> files_in(const fs::path& dir) {
    std::vector<fs::path> v;
    if (!fs::exists(dir)) return v;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".nft") v.push_back(e.path());
    std::sort(v.begin(), v.end());
    return v;
}

const std::vector<std::string> kIfs{"lo", "lan0", "wan0", "dmz0", "eth0"};

}  // namespace

BOOST_AUTO_TEST_CASE(every_example_ruleset_loads) {
    auto files = files_in(fs::path(FWSIM_SOURCE_DIR) / "rules");
    BOOST_TEST(files.size() >= 4u);
    for (const auto& f : files) {
        BOOST_TEST_CONTEXT(f.string()) {
            try {
                auto rs = fwsim::load_ruleset_file(f.string(), kIfs);
                BOOST_TEST(rs.rule_count() > 0u);
            } catch (const fwsim::InputError& e) {
                BOOST_ERROR(e.render());
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(every_good_corpus_file_loads) {
    auto files = files_in(fs::path(FWSIM_SOURCE_DIR) / "tests/rules_corpus/good");
    BOOST_TEST(files.size() >= 10u);
    for (const auto& f : files) {
        BOOST_TEST_CONTEXT(f.string()) {
            try {
                fwsim::load_ruleset_file(f.string(), kIfs);
            } catch (const fwsim::InputError& e) {
                BOOST_ERROR(e.render());
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(every_bad_corpus_file_fails_where_its_header_says) {
    auto files = files_in(fs::path(FWSIM_SOURCE_DIR) / "tests/rules_corpus/bad");
    BOOST_TEST(files.size() >= 15u);
    for (const auto& f : files) {
        BOOST_TEST_CONTEXT(f.string()) {
            std::ifstream in(f);
            std::string first;
            std::getline(in, first);
            const std::string tag = "# error: ";
            BOOST_REQUIRE(first.rfind(tag, 0) == 0);
            std::istringstream hs(first.substr(tag.size()));
            unsigned line = 0, col = 0;
            char c1 = 0, c2 = 0;
            hs >> line >> c1 >> col >> c2;
            std::string frag;
            std::getline(hs, frag);
            frag.erase(0, frag.find_first_not_of(' '));
            try {
                fwsim::load_ruleset_file(f.string(), kIfs);
                BOOST_ERROR("accepted a ruleset nft rejects");
            } catch (const fwsim::InputError& e) {
                BOOST_TEST(e.line() == line);
                BOOST_TEST(e.col() == col);
                BOOST_TEST(std::string(e.what()).find(frag) != std::string::npos, e.what() << " lacks " << frag);
                BOOST_TEST(e.file() == f.string());
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(builtin_ruleset_is_the_home_ruleset) {
    auto rs = fwsim::load_builtin_ruleset(kIfs);
    BOOST_TEST(rs.rule_count() == 7u);
    BOOST_TEST(rs.rule_info(0).file == "rules/home.nft");
    BOOST_TEST(rs.base_chains(fwsim::Hook::postrouting, fwsim::Family::ipv4).size() == 1u);
}

BOOST_AUTO_TEST_CASE(unreadable_ruleset_file_is_an_input_error) {
    try {
        fwsim::load_ruleset_file("/nonexistent/x.nft", kIfs);
        BOOST_ERROR("no error");
    } catch (const fwsim::InputError& e) {
        BOOST_TEST(e.file() == "/nonexistent/x.nft");
        BOOST_TEST(std::string(e.what()).find("cannot read") != std::string::npos);
    }
}
