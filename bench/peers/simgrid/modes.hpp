/* The peer's modes: each builds its platform, runs its migrations and prints what it measured. */
#ifndef SIMGRID_PEER_MODES_HPP
#define SIMGRID_PEER_MODES_HPP

#include <simgrid/s4u/Engine.hpp>

#include <string>
#include <vector>

/** `accuracy [FILE|-]`: the migration cases of a CSV file (stdin by default), one after another; a CSV row of outcomes each. */
int accuracy_mode(simgrid::s4u::Engine& engine, const std::vector<std::string>& arguments);

/** `sequential N`: one dirtying VM migrated N times back and forth, one migration after another (speed.cpp). */
int sequential_mode(simgrid::s4u::Engine& engine, const std::vector<std::string>& arguments);

/** `concurrent N`: N idle VMs migrating at once over one shared link (speed.cpp). */
int concurrent_mode(simgrid::s4u::Engine& engine, const std::vector<std::string>& arguments);

/** `datacenter [HOSTS VMS_PER_HOST MIGRATIONS TIMELINE_S HOST_CORES]`: bench/datacenter.ts's migrations alone (speed.cpp). */
int datacenter_mode(simgrid::s4u::Engine& engine, const std::vector<std::string>& arguments);

#endif
