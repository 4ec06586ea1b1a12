#include "testkit/builders.h"

#include "config/toml_reader.h"

namespace bp::testkit {

TestRun sleep_run(std::string id, int iterations, std::string_view seconds) {
  TestRun r;
  r.id = std::move(id);
  r.iterations = iterations;
  r.test.name = "sleep";
  r.test.test_template_name = "Sleep";
  r.test.cmd_args = read_toml_string("seconds = " + std::string(seconds), "t.toml");
  return r;
}

}  // namespace bp::testkit
