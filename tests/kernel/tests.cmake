# Kernel-differential suite: fwsim against goldens recorded from the Linux
# kernel by ../shared/oracle/kernel-replay (see docs/kernel-differences.md).
find_program(FWSIM_KERNEL_PYTHON NAMES python3)
if(NOT FWSIM_KERNEL_PYTHON)
  message(STATUS "kernel tests: python3 not found, not registered")
  return()
endif()
set(_kdir ${CMAKE_CURRENT_LIST_DIR})

# compare.py itself, against a stand-in that answers from the goldens: the
# identity must agree 100%, a flipped verdict must be reported as a failure.
add_test(NAME kernel.compare_selftest
  COMMAND ${FWSIM_KERNEL_PYTHON} ${_kdir}/compare.py ${_kdir}/fake_fwsim.py --allow-stale)
add_test(NAME kernel.compare_selftest_flip
  COMMAND ${CMAKE_COMMAND} -E env FAKE_FWSIM_FLIP=scenarios/dns_udp_v4:3
          ${FWSIM_KERNEL_PYTHON} ${_kdir}/compare.py ${_kdir}/fake_fwsim.py --only dns_udp_v4)
set_tests_properties(kernel.compare_selftest_flip PROPERTIES WILL_FAIL TRUE)

if(TARGET fwsim)
  add_test(NAME kernel.goldens
    COMMAND ${FWSIM_KERNEL_PYTHON} ${_kdir}/compare.py $<TARGET_FILE:fwsim>)
  set_tests_properties(kernel.goldens PROPERTIES TIMEOUT 900)
endif()

# Live kernel on a small sample: needs root and `ip netns`; prints SKIPPED
# (and passes) otherwise.
add_test(NAME kernel.live COMMAND ${FWSIM_KERNEL_PYTHON} ${_kdir}/compare.py --live 3)
set_tests_properties(kernel.live PROPERTIES TIMEOUT 300 SKIP_REGULAR_EXPRESSION "SKIPPED")
