# The nft corpus check: real `nft -c` must accept good/ and rules/, reject bad/.
add_test(NAME rules.nft_corpus COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/check.sh)
set_tests_properties(rules.nft_corpus PROPERTIES SKIP_RETURN_CODE 77)
