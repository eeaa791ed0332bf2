/* The peer's modes: each builds its platform, runs its migrations and prints what it measured. */
#ifndef SIMGRID_PEER_MODES_HPP
#define SIMGRID_PEER_MODES_HPP

#include <simgrid/s4u/Engine.hpp>

#include <string>
#include <vector>

/** `accuracy [FILE|-]`: the migration cases of a CSV file (stdin by default), one after another; a CSV row of outcomes each. */
int accuracy_mode(simgrid::s4u::Engine& engine, const std::vector<std::string>& arguments);

#endif
