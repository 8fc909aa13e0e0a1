# Scenario tests: capture + ruleset + kernel-derived expectations, checked by
# run.py against the fwsim binary (captures made by tools/gen_scenarios.py).
find_program(FWSIM_SCENARIO_PYTHON NAMES python3)
if(TARGET fwsim AND FWSIM_SCENARIO_PYTHON)
  add_test(NAME scenarios
    COMMAND ${FWSIM_SCENARIO_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/run.py $<TARGET_FILE:fwsim>)
  set_tests_properties(scenarios PROPERTIES TIMEOUT 300)
endif()
