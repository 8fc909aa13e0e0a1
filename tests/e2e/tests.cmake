# End-to-end checks of the fwsim binary (tests/e2e/run.py).
if(TARGET fwsim)
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
  add_test(NAME e2e COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/run.py $<TARGET_FILE:fwsim>)
endif()
if(TARGET fwsim AND TARGET fwsim-gen)
  add_test(NAME e2e.threads_determinism
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/threads_determinism.sh $<TARGET_FILE:fwsim> $<TARGET_FILE:fwsim-gen>
                   ${CMAKE_SOURCE_DIR})
endif()
if(TARGET fwsim AND TARGET fwsim-gen)
  add_test(NAME e2e.progress
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/progress.sh $<TARGET_FILE:fwsim> $<TARGET_FILE:fwsim-gen>)
endif()
