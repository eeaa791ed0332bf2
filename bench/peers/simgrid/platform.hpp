/* Two physical hosts and one link between them, built in C++ rather than read from XML. */
#ifndef SIMGRID_PEER_PLATFORM_HPP
#define SIMGRID_PEER_PLATFORM_HPP

#include <simgrid/s4u/Host.hpp>

#include <vector>

struct HostPair {
  simgrid::s4u::Host* source;
  simgrid::s4u::Host* destination;
};

/** Hosts of one core at this speed; migrations are throttled by their own rate, so only their VMs' computation uses it. */
constexpr double HOST_FLOPS = 1e9;

/**
 * A source and a destination host joined by one link of `link_bytes_per_s` and no latency.
 * The caller makes it far faster than any migration's rate (SimGrid's default network model
 * gives a flow 97 % of a link's bandwidth), so that the rate set on each transfer is what holds.
 */
HostPair build_two_host_platform(double link_bytes_per_s);

/**
 * `count` hosts named host001, host002... of `cores` cores each, in a star: each host has a
 * link of its own to the others in each direction (one up, one down) of `link_bytes_per_s`
 * and no latency, and nothing else between them, so that a transfer from A to B shares A's
 * up link and B's down link. The project's sim links its hosts the same way (`hosts.linkMbps`,
 * per host, each direction).
 */
std::vector<simgrid::s4u::Host*> build_star_platform(int count, int cores, double link_bytes_per_s);

#endif
