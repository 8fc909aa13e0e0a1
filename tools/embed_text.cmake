# Turns a text file into a C++ source holding it as a string_view:
# cmake -DIN=rules/home.nft -DOUT=home_nft.cpp -P embed_text.cmake
file(READ ${IN} content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
file(WRITE ${OUT} "// Generated from rules/home.nft by tools/embed_text.cmake. Do not edit.\n"
  "#include <string_view>\nnamespace fwsim {\nstatic const char kHomeNftBytes[] = {${bytes} 0};\n"
  "extern const std::string_view kHomeNft{kHomeNftBytes, sizeof(kHomeNftBytes) - 1};\n}\n")
