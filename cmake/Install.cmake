# What `cmake --install` places besides the binary, migrations/ and sql/
# (installed by the top-level CMakeLists.txt): the systemd units, example
# settings files for them, and the Grafana dashboard.
#
#   cmake --install build                      # /usr/local
#   cmake --install build --prefix /usr        # units in /usr/lib/systemd/system
#   DESTDIR=/tmp/stage cmake --install build   # for packaging

include(GNUInstallDirs)

set(STATESINK_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
    "Where the systemd units go: relative to the install prefix, or absolute")

# The units in deploy/systemd/ name /usr/local/bin/statesink; the installed
# copies name the binary where this install puts it. The prefix is read when
# installing, so `cmake --install --prefix` is honoured.
set(statesink_unit_build_dir ${PROJECT_BINARY_DIR}/deploy/systemd)
foreach(unit statesink-ingest.service statesink-migrate.service statesink-prune.service
             statesink-prune.timer statesink-statistics.service statesink-statistics.timer)
  install(CODE "
    set(bindir \"${CMAKE_INSTALL_BINDIR}\")
    if(NOT IS_ABSOLUTE \"\${bindir}\")
      set(bindir \"\${CMAKE_INSTALL_PREFIX}/\${bindir}\")
    endif()
    file(READ \"${PROJECT_SOURCE_DIR}/deploy/systemd/${unit}\" unit_text)
    string(REPLACE \"/usr/local/bin/statesink\" \"\${bindir}/statesink\" unit_text \"\${unit_text}\")
    file(WRITE \"${statesink_unit_build_dir}/${unit}\" \"\${unit_text}\")
  ")
  install(FILES ${statesink_unit_build_dir}/${unit}
          DESTINATION ${STATESINK_SYSTEMD_UNIT_DIR})
endforeach()

install(FILES deploy/systemd/statesink.env.example deploy/systemd/migrate.env.example
        DESTINATION ${CMAKE_INSTALL_DATADIR}/statesink/systemd)
install(FILES deploy/grafana/dashboards/statesink.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/statesink/grafana)
