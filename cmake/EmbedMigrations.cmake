# Writes a C++ file holding every migrations/*.sql file as a byte array, so the
# binary carries its migrations. Run at build time: cmake -DSOURCE_DIR=... -DOUTPUT=... -P
file(GLOB files RELATIVE ${SOURCE_DIR} ${SOURCE_DIR}/*.sql)
list(SORT files)
set(body "")
set(entries "")
set(index 0)
foreach(name IN LISTS files)
  file(READ ${SOURCE_DIR}/${name} hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR size "${hex_length} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
  string(APPEND body "constexpr char kFile${index}[] = {${bytes} 0};\n")
  string(APPEND entries "    {\"${name}\", std::string_view(kFile${index}, ${size})},\n")
  math(EXPR index "${index} + 1")
endforeach()
file(WRITE ${OUTPUT}.tmp
"// Generated from migrations/*.sql by cmake/EmbedMigrations.cmake. Do not edit.
#include \"migrate/embedded_migrations.h\"

namespace statesink::migrate {
namespace {
${body}}  // namespace

std::vector<EmbeddedFile> embedded_migration_files() {
  return {
${entries}  };
}
}  // namespace statesink::migrate
")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUTPUT}.tmp)
