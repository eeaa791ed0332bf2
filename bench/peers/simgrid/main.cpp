/*
 * The SimGrid peer of vm-monitoring's bench: live migrations on SimGrid's live-migration
 * plugin, predicted the way the project's sim predicts them. `simgrid-peer MODE [ARGS]`;
 * SimGrid's own --cfg= and --log= arguments go before MODE. See README.md.
 */
#include "modes.hpp"

#include <cstdio>
#include <map>

namespace sg4 = simgrid::s4u;

using Mode = int (*)(sg4::Engine&, const std::vector<std::string>&);

const std::map<std::string, Mode, std::less<>> MODES = {
    {"accuracy", accuracy_mode},
    {"sequential", sequential_mode},
    {"concurrent", concurrent_mode},
    {"datacenter", datacenter_mode},
};

int main(int argc, char* argv[])
{
  // SimGrid's informational lines would go to stderr among ours; a caller can still pass --log= to see them.
  std::vector<char*> engine_argv(argv, argv + argc);
  char quiet[] = "--log=root.thres:warning";
  engine_argv.insert(engine_argv.begin() + 1, quiet);
  int engine_argc = static_cast<int>(engine_argv.size());
  engine_argv.push_back(nullptr);
  sg4::Engine engine(&engine_argc, engine_argv.data());

  auto mode = engine_argc > 1 ? MODES.find(engine_argv[1]) : MODES.end();
  if (mode == MODES.end()) {
    std::fprintf(stderr, "usage: %s [--cfg=... --log=...] MODE [ARGS]; modes:", argv[0]);
    for (const auto& [name, _] : MODES)
      std::fprintf(stderr, " %s", name.c_str());
    std::fprintf(stderr, "\n");
    return 2;
  }
  return mode->second(engine, std::vector<std::string>(engine_argv.begin() + 2, engine_argv.begin() + engine_argc));
}
